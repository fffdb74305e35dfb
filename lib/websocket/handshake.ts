// The opening handshake: RFC 6455 §4.1 (client requirements), §4.2 (server requirements),
// §1.3 and §4.2.2 (Sec-WebSocket-Accept = base64(SHA-1(key + GUID))), §11.3 (the headers).

import { createHash, randomBytes } from 'node:crypto';
import { isSafeFieldValue, isToken } from '../http-common/characters.ts';
import { fieldValueSeparator, joinFieldValues, listMembers } from '../http-common/fields.ts';

/** The GUID every endpoint appends to the client's key (§1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (§4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** A key is 16 bytes in base64: 24 characters, the last two '=' (§4.2.1 item 5). */
export function isValidKey(key: string | undefined): key is string {
  if (key === undefined || key.length !== 24 || !key.endsWith('==')) return false;
  return Buffer.from(key, 'base64').toString('base64') === key;
}

/** Headers as node:http gives them: lower-case names, a value or a list of values. */
export type HeaderMap = Record<string, string | string[] | undefined>;

export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(fieldValueSeparator(name)) : value;
}

/** The items of a comma-separated header, trimmed, case kept (Sec-WebSocket-Protocol); none when it is absent. */
export function headerTokens(value: string | undefined): string[] {
  return value === undefined ? [] : listMembers(value);
}

/** Does a token-list header (Connection, Upgrade) contain `token`, compared case-insensitively? */
export function hasToken(value: string | undefined, token: string): boolean {
  return value !== undefined && listMembers(value.toLowerCase()).includes(token.toLowerCase());
}

/**
 * Why a request is not a WebSocket upgrade, or undefined when it is one: Upgrade must name websocket and
 * Connection must name Upgrade (§4.2.1 items 3–4). The raw HTTP parser asks this too, to know when to stop.
 */
export function webSocketUpgradeProblem(headers: HeaderMap): string | undefined {
  if (!hasToken(headerValue(headers, 'upgrade'), 'websocket')) return 'the Upgrade header must name websocket';
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) return 'the Connection header must include Upgrade';
  return undefined;
}

export interface UpgradeRequestHead {
  method?: string;
  httpVersion: string;
  headers: HeaderMap;
}

export type ServerHandshakeCheck =
  | { ok: true; key: string; offeredProtocols: string[] }
  | { ok: false; status: number; reason: string; headers?: Record<string, string> };

/** Check a client's opening handshake against §4.2.1, item by item. */
export function checkUpgradeRequest(request: UpgradeRequestHead): ServerHandshakeCheck {
  const headers = request.headers;
  if (request.method !== undefined && request.method !== 'GET') {
    return { ok: false, status: 405, reason: 'the opening handshake must be a GET request', headers: { Allow: 'GET' } };
  }
  const [major, minor] = request.httpVersion.split('.').map(Number);
  if (!(major > 1 || (major === 1 && minor >= 1))) {
    return { ok: false, status: 400, reason: 'the opening handshake needs HTTP/1.1 or later' };
  }
  if (!headerValue(headers, 'host')) return { ok: false, status: 400, reason: 'missing Host header' };
  const notUpgrade = webSocketUpgradeProblem(headers);
  if (notUpgrade !== undefined) return { ok: false, status: 400, reason: notUpgrade };
  // §4.4: an unsupported version is answered 426 with the versions we speak.
  if (headerValue(headers, 'sec-websocket-version')?.trim() !== '13') {
    return {
      ok: false,
      status: 426,
      reason: 'unsupported Sec-WebSocket-Version (this server speaks 13)',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  const key = headerValue(headers, 'sec-websocket-key')?.trim();
  if (!isValidKey(key)) return { ok: false, status: 400, reason: 'Sec-WebSocket-Key must be 16 bytes in base64' };
  return { ok: true, key, offeredProtocols: headerTokens(headerValue(headers, 'sec-websocket-protocol')) };
}

/** The 101 response that completes the handshake (§4.2.2 item 5), with the extensions accepted (§9.1), if any. */
export function acceptResponse(key: string, protocol?: string, extensions?: string): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
    (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
    (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
    '\r\n'
  );
}

// ── Client side (§4.1) ──────────────────────────────────────────────────────────────────────────

export interface ClientRequestOptions {
  host: string;
  path: string;
  key: string;
  protocols?: string[];
  origin?: string;
  /** The Sec-WebSocket-Extensions offer (§9.1), built by us, never from user text. */
  extensions?: string;
  headers?: Record<string, string>;
}

/**
 * The request head, or a TypeError before anything is sent: a header name or subprotocol that is not an
 * RFC 9110 token, or a value with CR, LF or NUL, would let the caller's input write headers of its own.
 */
export function clientRequest(options: ClientRequestOptions): string {
  for (const protocol of options.protocols ?? []) {
    if (!isToken(protocol)) throw new TypeError(`subprotocol ${JSON.stringify(protocol)} is not a token (RFC 6455 §4.1, RFC 9110 §5.6.2)`);
  }
  if (options.origin !== undefined && !isSafeFieldValue(options.origin)) throw new TypeError(`origin ${JSON.stringify(options.origin)} contains CR, LF or NUL`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!isToken(name)) throw new TypeError(`header name ${JSON.stringify(name)} is not a token (RFC 9110 §5.6.2)`);
    if (!isSafeFieldValue(String(value))) throw new TypeError(`header ${name} has CR, LF or NUL in its value`);
  }
  let request =
    `GET ${options.path} HTTP/1.1\r\n` +
    `Host: ${options.host}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${options.key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n';
  if (options.protocols?.length) request += `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
  if (options.origin) request += `Origin: ${options.origin}\r\n`;
  if (options.extensions) request += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) request += `${name}: ${value}\r\n`;
  return request + '\r\n';
}

export interface ResponseHead {
  statusCode: number;
  statusText: string;
  headers: Record<string, string>;
}

/**
 * Parse an HTTP response head (status line and headers, without the final blank line).
 * Returns undefined when it is not a well-formed HTTP/1.x response.
 */
export function parseResponseHead(text: string): ResponseHead | undefined {
  const lines = text.split('\r\n');
  const statusLine = lines[0];
  if (!statusLine.startsWith('HTTP/1.')) return undefined;
  const firstSpace = statusLine.indexOf(' ');
  const statusCode = Number(statusLine.slice(firstSpace + 1, firstSpace + 4));
  if (firstSpace < 0 || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) return undefined;
  const headers: Record<string, string> = Object.create(null);
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index];
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? joinFieldValues(name, headers[name]!, value) : value;
  }
  return { statusCode, statusText: statusLine.slice(firstSpace + 5), headers };
}

/**
 * Check the server's answer (§4.1, "the client MUST validate the server's response"). Returns the problem,
 * or undefined. Sec-WebSocket-Extensions is checked against the offer by the extension (checkAsClient).
 */
export function checkUpgradeResponse(response: ResponseHead, key: string, offeredProtocols: string[]): string | undefined {
  if (response.statusCode !== 101) return `server answered ${response.statusCode} ${response.statusText}`.trim();
  if (!hasToken(response.headers['upgrade'], 'websocket')) return 'response lacks Upgrade: websocket';
  if (!hasToken(response.headers['connection'], 'upgrade')) return 'response lacks Connection: Upgrade';
  if (response.headers['sec-websocket-accept'] !== acceptKey(key)) return 'wrong Sec-WebSocket-Accept';
  const protocol = response.headers['sec-websocket-protocol'];
  if (protocol !== undefined && !offeredProtocols.includes(protocol)) return `server chose subprotocol "${protocol}", which was not offered`;
  return undefined;
}
