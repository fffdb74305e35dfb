// The server side of the opening handshake over a socket: RFC 6455 §4.2 (server requirements), §10.2
// (Origin). `acceptWebSocket` turns an HTTP upgrade request — from node:http's 'upgrade' event or from our
// own HTTP server — into an open WebSocketConnection; `WebSocketServer` routes upgrades by path and caps
// how many connections are open at once.

import type { Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode } from './close-codes.ts';
import { WebSocketConnection, type ConnectionOptions } from './connection.ts';
import { acceptResponse, checkUpgradeRequest, headerValue, type HeaderMap } from './handshake.ts';
import { negotiateAsServer } from './permessage-deflate/handshake.ts';
import { writeClosingResponse } from '../http-common/response-head.ts';
import { tapSocket, type WireListener } from './wire-tap.ts';
import { DEFAULT_LIMITS } from './limits.ts';

/** What an upgrade needs of the HTTP request; node's IncomingMessage fits as it is. */
export interface UpgradeRequest {
  method?: string;
  url?: string;
  httpVersion: string;
  headers: HeaderMap;
  /** Names and values as received, alternating (node:http has them; its `headers` drops some names). */
  rawHeaders?: string[];
}

export interface AcceptOptions extends ConnectionOptions {
  /** Pick one of the client's subprotocols (§4.2.2 item 5.4), or undefined for none. */
  selectProtocol?: (offered: string[], request: UpgradeRequest) => string | undefined;
  /** Return false to refuse the Origin with 403 (§10.2: browsers send Origin, the server decides). */
  checkOrigin?: (origin: string | undefined, request: UpgradeRequest) => boolean;
  /**
   * The wire inspector: return a listener to see this connection's handshake and every frame both ways,
   * decoded (wire-trace.ts). For learning and debugging only: tracing copies every chunk.
   */
  trace?: (request: UpgradeRequest) => WireListener | undefined;
  /**
   * Origins whose pages may open a connection ("https://example.com", "http://localhost:8000"), compared
   * after normalising scheme, host and port; any other Origin is refused with 403. The defence against
   * cross-site WebSocket hijacking: a browser sends the page's Origin with every handshake, cookies included.
   * A request without Origin (not from a browser) passes. Default: any origin.
   */
  allowedOrigins?: readonly string[];
}

/** "HTTPS://Example.COM:443/" → "https://example.com": scheme and host lower-cased, a default port dropped. */
export function normalizeOrigin(origin: string): string {
  try {
    const url = new URL(origin.trim());
    return `${url.protocol}//${url.host}`;
  } catch {
    return origin.trim().toLowerCase(); // "null" (a sandboxed page or a file) and the like
  }
}

function isOriginAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  return allowed.some((entry) => normalizeOrigin(entry) === normalized);
}

/**
 * Validate the upgrade request; on success write the 101 response and return the open connection
 * (the `head` bytes are fed to it on the next tick), otherwise answer 400/403/405/426 with a reason,
 * close the socket and return undefined.
 */
export function acceptWebSocket(request: UpgradeRequest, socket: Duplex, head: Buffer, options: AcceptOptions = {}): WebSocketConnection | undefined {
  const check = checkUpgradeRequest(request);
  if (!check.ok) {
    refuseUpgrade(socket, check.status, check.reason, check.headers);
    return undefined;
  }
  const origin = headerValue(request.headers, 'origin');
  if ((options.allowedOrigins && !isOriginAllowed(origin, options.allowedOrigins)) || (options.checkOrigin && !options.checkOrigin(origin, request))) {
    refuseUpgrade(socket, 403, 'origin not allowed');
    return undefined;
  }
  // RFC 7692: permessage-deflate, when enabled (`perMessageDeflate`) and acceptably offered.
  const deflate = negotiateAsServer(request.headers['sec-websocket-extensions'], options.perMessageDeflate);
  if (!deflate.ok) {
    refuseUpgrade(socket, 400, deflate.reason);
    return undefined;
  }
  let protocol = options.selectProtocol?.(check.offeredProtocols, request);
  if (protocol !== undefined && !check.offeredProtocols.includes(protocol)) protocol = undefined;
  const traceListener = options.trace?.(request);
  if (traceListener !== undefined) traceUpgrade(socket, request, head, traceListener);
  socket.write(acceptResponse(check.key, protocol, deflate.responseHeader));
  return new WebSocketConnection(socket, 'server', { ...options, protocol, head, extensions: deflate.responseHeader, deflate: deflate.agreement });
}

/** Start tracing an accepted upgrade: the request as the HTTP server read it, then the socket both ways. */
function traceUpgrade(socket: Duplex, request: UpgradeRequest, head: Buffer, listener: WireListener): void {
  const lines = [`${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/${request.httpVersion}`];
  for (const name in request.headers) {
    const value = request.headers[name];
    for (const each of Array.isArray(value) ? value : [value]) if (each !== undefined) lines.push(`${name}: ${each}`);
  }
  listener({ kind: 'http', direction: 'in', lines });
  tapSocket(socket, 'server', listener).incoming.push(head);
}

/** Answer an upgrade with an HTTP error, its reason as plain text, and close the socket once it is written. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, headers?: Record<string, string>): void {
  const sent = writeClosingResponse(socket, status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }, reason + '\n');
  if (!sent) socket.destroy(); // only for a status or header no caller passes; never a half-written answer
}

export type ConnectionHandler = (connection: WebSocketConnection, request: UpgradeRequest) => void;

export interface WebSocketServerOptions extends AcceptOptions {
  /** Open connections at most; one more upgrade is refused with 503 before the handshake (default 10,000). */
  maxConnections?: number;
}

/**
 * WebSocket endpoints by exact path, attached to a node:http server's 'upgrade' event. Keeps every
 * open connection so a shutdown can close them all with 1001 (Going Away), and refuses upgrades past
 * `maxConnections`. The options given here apply to every route (a route's own options win). For path
 * parameters, use the router in lib/http, which accepts through a WebSocketServer of its own.
 */
export class WebSocketServer {
  readonly connections = new Set<WebSocketConnection>();
  readonly maxConnections: number;
  private readonly routes = new Map<string, { handler: ConnectionHandler; options: AcceptOptions }>();
  /** One 'close' listener shared by all tracked connections (it gets the connection as `this`): no closure per connection. */
  private readonly forgetConnection: (this: WebSocketConnection) => void;

  constructor(private readonly defaults: WebSocketServerOptions = {}) {
    this.maxConnections = defaults.maxConnections ?? DEFAULT_LIMITS.maxConnections;
    const connections = this.connections;
    this.forgetConnection = function forgetConnection(this: WebSocketConnection): void {
      connections.delete(this);
    };
  }

  route(path: string, handler: ConnectionHandler, options: AcceptOptions = {}): this {
    this.routes.set(path, { handler, options: this.withDefaults(options) });
    return this;
  }

  /** A route's options over this server's (computed once per route, not per upgrade). */
  withDefaults<Options extends AcceptOptions>(options: Options): Options {
    return { ...this.defaults, ...options };
  }

  attach(server: HttpServer): this {
    server.on('upgrade', (request, socket, head) => this.handleUpgrade(request, socket, head));
    return this;
  }

  handleUpgrade(request: UpgradeRequest, socket: Duplex, head: Buffer): void {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const route = this.routes.get(query === -1 ? url : url.slice(0, query));
    if (!route) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url}`);
      return;
    }
    const connection = this.accept(request, socket, head, route.options);
    if (connection) route.handler(connection, request);
  }

  /** `acceptWebSocket` within this server's connection cap (503 past it), and track the connection. */
  accept(request: UpgradeRequest, socket: Duplex, head: Buffer, options: AcceptOptions = this.defaults): WebSocketConnection | undefined {
    if (this.connections.size >= this.maxConnections) {
      refuseUpgrade(socket, 503, `too many WebSocket connections (this server allows ${this.maxConnections})`);
      return undefined;
    }
    const connection = acceptWebSocket(request, socket, head, options);
    if (connection) this.track(connection);
    return connection;
  }

  /** Remember a connection until it closes (also for connections accepted elsewhere). */
  track(connection: WebSocketConnection): void {
    if (this.connections.has(connection)) return;
    this.connections.add(connection);
    connection.on('close', this.forgetConnection);
  }

  /** Close every connection (1001 by default) and wait until all are gone. */
  async closeAll(code: number = CloseCode.GoingAway, reason = 'server shutting down'): Promise<void> {
    const closing = [...this.connections].map((connection) => new Promise<void>((resolve) => {
      connection.once('close', () => resolve());
      connection.close(code, reason);
    }));
    await Promise.all(closing);
  }
}
