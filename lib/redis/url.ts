// Redis URLs (the IANA "redis" and "rediss" schemes): redis://[[user]:password@]host[:port][/db].
// rediss:// is the same over TLS. User and password are percent-decoded; the default port is 6379,
// the default database 0. An IPv6 host is written in brackets: redis://[::1]:6379.

import { RedisConnectionError } from './errors.ts';

export interface RedisEndpoint {
  host: string;
  port: number;
  tls: boolean;
  /** For AUTH <username> <password> (Redis 6 ACL users); absent means AUTH <password>. */
  username: string | undefined;
  password: string | undefined;
  db: number;
}

export const DEFAULT_PORT = 6379;

export function parseRedisUrl(text: string): RedisEndpoint {
  const invalid = (why: string): RedisConnectionError =>
    new RedisConnectionError('INVALID_URL', `invalid Redis URL ${JSON.stringify(redact(text))}: ${why} (expected redis://[user:password@]host[:port][/db] or rediss://…)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw invalid(`scheme ${url.protocol.slice(0, -1)} is neither redis nor rediss`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw invalid('no host');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const path = url.pathname === '' || url.pathname === '/' ? '0' : url.pathname.slice(1);
  if (!/^\d{1,5}$/.test(path)) throw invalid(`database ${JSON.stringify(path)} is not a number`);
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username === '' ? undefined : decodeURIComponent(url.username);
    password = url.password === '' ? undefined : decodeURIComponent(url.password);
  } catch {
    throw invalid('bad percent-encoding in the user or password');
  }
  // "redis://secret@host" (no colon) is the older form carrying a password only (a user without a password cannot AUTH).
  if (username !== undefined && password === undefined) {
    password = username;
    username = undefined;
  }
  return { host, port, tls: url.protocol === 'rediss:', username, password, db: Number(path) };
}

/** The URL without its password, for messages and logs. */
export function redact(text: string): string {
  return text.replace(/\/\/([^@/]*)@/, (_, userinfo: string) => `//${userinfo.includes(':') ? `${userinfo.slice(0, userinfo.indexOf(':'))}:***` : '***'}@`);
}

/** host:port for messages (never the password). */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls ? 'rediss' : 'redis'}://${host}:${endpoint.port}${endpoint.db === 0 ? '' : `/${endpoint.db}`}`;
}
