// The Poparazzi event stream served over WebSocket (seed 003): the rules of stream-session.ts wired
// to real connections, the HTTP routes beside it, and the data file. `registerPoparazzi` adds it all
// to a Router (the all-in-one server); `startPoparazzi` runs it alone on our raw HTTP server.

import type { AddressInfo } from 'node:net';
import { urlHost } from '../../lib/cli.ts';
import { createHttpServer } from '../../lib/http/server.ts';
import type { TlsCredentials } from '../../lib/http/tls.ts';
import { Router, type WebSocketConnection } from '../../lib/http/router.ts';
import { CloseCode, type HeartbeatOptions } from '../../lib/websocket/index.ts';
import { systemClock, type Clock } from './clock.ts';
import { loadViewCounts } from './data-file.ts';
import { indexPage, issueSession, postViews } from './http-routes.ts';
import { DEFAULT_MESSAGE_LIMITS, type MessageLimits } from './messages.ts';
import { DEFAULT_SAVE_INTERVAL_MS, ViewCountPersistence } from './persistence.ts';
import { SessionStore } from './sessions.ts';
import { isPromise, type Sessions, type ViewCounter } from './stores.ts';
import { DEFAULT_RATE_LIMIT, StreamSession, type RateLimit, type StreamAction } from './stream-session.ts';
import { ViewLedger, type ViewRules } from './view-ledger.ts';

export interface PoparazziOptions {
  /** Where the stream is upgraded (default "/", as on poparazzi.com). */
  streamPath?: string;
  /** Keep view counts in this file across restarts (loaded now, saved on an interval and on close). */
  dataFile?: string;
  saveIntervalMs?: number;
  /** Close a stream that has not authenticated within this long (default 5 s). */
  authenticationTimeoutMs?: number;
  /** Serve `POST /sessions` (default true). Turn off where sessions come from elsewhere. */
  issueSessions?: boolean;
  /** Serve a short HTML page on a plain `GET` of the stream path (the standalone server does). */
  indexPage?: boolean;
  sessions?: SessionStore;
  /**
   * Keep sessions and view counts in a store shared with other processes (shared-redis.ts) instead of
   * this process's memory. Its persistence then replaces the data file (`dataFile` must not be given).
   */
  shared?: { sessions: Sessions; views: ViewCounter };
  viewRules?: Partial<ViewRules>;
  messageLimits?: Partial<MessageLimits>;
  rateLimit?: Partial<RateLimit>;
  /** Ping idle streams so dead peers are noticed (default every 30 s, 10 s to answer). */
  heartbeat?: HeartbeatOptions | false;
  clock?: Clock;
}

export interface PoparazziService {
  /** This process's sessions and counts (not used when `shared` was given). */
  readonly sessions: SessionStore;
  readonly ledger: ViewLedger;
  /** Close every stream with 1001, stop the timers and write the data file one last time. */
  close(): Promise<void>;
}

export const DEFAULT_AUTHENTICATION_TIMEOUT_MS = 5_000;
/** Frames beyond this end the connection (1009); between the message limit and this, the client gets an error and stays. */
const MAX_WEBSOCKET_MESSAGE_BYTES = 64 * 1024;
const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 30_000, timeoutMs: 10_000 };
/** How often ended view windows are forgotten. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Add the stream and its HTTP routes to `router`. Throws DataFileError when `dataFile` exists but
 * cannot be trusted, before anything is registered.
 */
export function registerPoparazzi(router: Router, options: PoparazziOptions = {}): PoparazziService {
  const clock = options.clock ?? systemClock;
  if (options.shared !== undefined && options.dataFile !== undefined) throw new TypeError('registerPoparazzi: a shared store replaces the data file; give one or the other');
  const ledger = new ViewLedger(options.viewRules, clock);
  if (options.dataFile !== undefined) ledger.load(loadViewCounts(options.dataFile));
  const sessions = options.sessions ?? new SessionStore();
  const limits: MessageLimits = { ...DEFAULT_MESSAGE_LIMITS, ...options.messageLimits };
  const rateLimit: RateLimit = { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
  const authenticationTimeoutMs = options.authenticationTimeoutMs ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS;
  const heartbeat = options.heartbeat === false ? undefined : (options.heartbeat ?? DEFAULT_HEARTBEAT);
  const streamPath = options.streamPath ?? '/';
  const connections = new Set<WebSocketConnection>();

  const persistence = options.dataFile === undefined ? undefined : new ViewCountPersistence(options.dataFile, ledger);
  persistence?.start(options.saveIntervalMs ?? DEFAULT_SAVE_INTERVAL_MS);
  const pruneTimer = setInterval(() => ledger.prune(), PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  const streamSessions: Sessions = options.shared?.sessions ?? sessions;
  const viewCounter: ViewCounter = options.shared?.views ?? ledger;

  const serveStream = (connection: WebSocketConnection): void => {
    const session = new StreamSession<true>({ sessions: streamSessions, ledger: viewCounter, limits, rateLimit, clock });
    connections.add(connection);
    const perform = (actions: StreamAction[]): void => {
      for (const action of actions) {
        if (action.type === 'send') connection.send(JSON.stringify(action.message));
        else connection.close(action.code, action.reason);
      }
    };
    const deadline = setTimeout(() => perform(session.authenticationTimedOut()), authenticationTimeoutMs);
    // Answers go out in the order the messages came, also when a shared store answers later; with the
    // in-memory store every answer is immediate and nothing is queued.
    let queue: Promise<void> | undefined;
    const answer = (data: Buffer, isBinary: boolean): Promise<void> | undefined => {
      const actions = session.receive(data, isBinary);
      if (!isPromise(actions)) return void perform(actions);
      return actions.then(perform);
    };
    connection.on('message', (data, isBinary) => {
      const pending = queue === undefined ? answer(data, isBinary) : queue.then(() => answer(data, isBinary));
      if (pending === undefined) return;
      queue = pending;
      void pending.then(() => {
        if (queue === pending) queue = undefined;
      });
    });
    connection.on('error', () => {}); // every failure also ends in 'close'; nothing to add here
    connection.once('close', () => {
      clearTimeout(deadline);
      connections.delete(connection);
    });
  };

  router.ws(streamPath, serveStream, { maxMessageBytes: MAX_WEBSOCKET_MESSAGE_BYTES, heartbeat });
  const issueSessions = options.issueSessions ?? true;
  if (options.indexPage) router.get(streamPath, () => indexPage({ issueSessions }));
  if (issueSessions) router.post('/sessions', (request) => issueSession(streamSessions, request));
  router.get('/posts/:id/views', (request) => postViews(viewCounter, request));

  let closing: Promise<void> | undefined;
  return {
    sessions,
    ledger,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        await Promise.all([...connections].map((connection) => new Promise<void>((resolve) => {
          connection.once('close', () => resolve());
          connection.close(CloseCode.GoingAway, 'server shutting down');
        })));
        await persistence?.stop();
      })();
      return closing;
    },
  };
}

export interface StartOptions extends PoparazziOptions {
  port?: number;
  host?: string;
  /** Serve https:// and wss:// with this certificate and key. */
  tls?: TlsCredentials;
  /** Browser origins allowed to open the stream (403 for others); default any. */
  allowedOrigins?: readonly string[];
}

export interface RunningPoparazzi extends PoparazziService {
  port: number;
  /** http://host:port (https:// with TLS) — `connect()` turns it into ws:// (wss://) for the stream. */
  url: string;
}

/** Run the stream alone (port 0 lets the OS choose). Rejects with DataFileError for an untrusted data file. */
export async function startPoparazzi(options: StartOptions = {}): Promise<RunningPoparazzi> {
  const router = new Router({ webSocket: { allowedOrigins: options.allowedOrigins } });
  const service = registerPoparazzi(router, { indexPage: true, ...options });
  const server = createHttpServer({ router, tls: options.tls });
  let address: AddressInfo;
  try {
    address = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  } catch (error) {
    await service.close();
    throw error;
  }
  return {
    sessions: service.sessions,
    ledger: service.ledger,
    port: address.port,
    url: `${options.tls === undefined ? 'http' : 'https'}://${urlHost(address.address)}:${address.port}`,
    async close() {
      await service.close();
      await server.close();
    },
  };
}
