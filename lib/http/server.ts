// The raw HTTP/1.1 server: node:net sockets + parser.ts + a Router (or a plain handler), with keep-alive and pipelining.
// RFC 9112 §9.3 (persistence, pipelined responses in order), §9.6 (Connection: close), RFC 9110 §9.3.2 (HEAD), §15.5.9 (408).
// Hot path: one string per response head, one socket write per batch of ready responses, no timer per request.
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import type { RouteRequest, RouteResponse, Router } from './router.ts';
import { RequestParser, type ParsedRequest } from './parser.ts';
import { DEFAULT_TIMEOUTS, type HttpLimits, type HttpTimeouts } from './limits.ts';
import { errorResponse } from './responses.ts';
import { responseHead, statusForbidsContent } from '../http-common/response-head.ts';
import { requestPathAndQuery } from './target.ts';
import { isThenable } from './thenable.ts';
import { logFailure } from './log-failure.ts';
import type { TlsCredentials } from './tls.ts';

/** What the raw server hands a plain handler: a RouteRequest without path parameters. */
export type ServerRequest = Omit<RouteRequest, 'params'>;
export type ServerHandler = (request: ServerRequest) => RouteResponse | Promise<RouteResponse>;

export interface HttpServerOptions {
  /** Routes requests and takes over `Upgrade: websocket` connections. */
  router?: Router;
  /** Used when there is no router; upgrade requests then reach it as ordinary requests. */
  handler?: ServerHandler;
  limits?: Partial<HttpLimits>;
  timeouts?: Partial<HttpTimeouts>;
  /** Serve https:// (and wss:// on upgrade) with this certificate and key instead of plain TCP. */
  tls?: TlsCredentials;
}

export interface HttpServer {
  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stop accepting, close idle keep-alive connections, let busy ones finish their responses; resolves when all are gone. */
  close(): Promise<void>;
  /** Destroy every connection at once, including sockets handed to WebSocket routes. */
  terminate(): void;
  address(): AddressInfo | null;
}

/** Pause reading from a client that has this many responses queued (pipelining without reading the answers). */
const MAX_QUEUED_RESPONSES = 256;
/** Pause reading while this many response bytes wait in the socket's write buffer. */
const WRITE_BUFFER_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * The most bytes handed to the socket in one write. A write moves neither bytesWritten nor writableLength until
 * all of it is sent, so larger bodies go out slice by slice (the next on 'drain'): each drain is visible progress,
 * and a slow client that keeps reading is told apart from one that stopped.
 */
const SEND_SLICE_BYTES = 64 * 1024;
/** Bytes a client may send after its upgrade request before the WebSocket side takes the socket. */
const MAX_UPGRADE_HEAD_BYTES = 64 * 1024;
/** How long a connection we have ended may linger (to let the client read our last response) before it is destroyed. */
const LINGER_MS = 2_000;

const CONTINUE_LINE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** One request waiting for its response; responses leave strictly in arrival order. */
class PendingExchange {
  response: RouteResponse | undefined = undefined;
  constructor(readonly request: ParsedRequest | undefined, public keepAlive: boolean, readonly isHead: boolean,
    readonly isUpgrade: boolean) {}
}

function forgetFrom(sockets: Set<net.Socket>): (this: net.Socket) => void {
  return function (this: net.Socket): void {
    sockets.delete(this);
  };
}

function destroySocket(this: net.Socket): void {
  this.destroy();
}

/** A large body going out slice by slice; later responses wait behind it. */
interface OutgoingBody {
  readonly bytes: Buffer;
  offset: number;
  /** End the connection once the last slice is written. */
  readonly close: boolean;
}

function flushConnection(connection: Connection): void {
  connection.flushScheduled = false;
  connection.flush();
}

class Connection {
  readonly parser: RequestParser;
  readonly pending: PendingExchange[] = [];
  readonly remoteAddress: string | undefined;
  /** When the request now arriving sent its first byte; 0 while between requests. */
  requestStartedAt = 0;
  lastActivityAt = Date.now();
  /** When response bytes last moved to the client (a write handed over, or a 'drain'): what the send timeout measures. */
  sendProgressAt = 0;
  /** Set once we ended our side: input is read and dropped so the client can still see our last response. */
  endedAt = 0;
  /** The server is shutting down: close after the responses already owed. */
  draining = false;
  flushScheduled = false;
  #paused = false;
  /** Set once a final response (error, 408) is queued: nothing more is read as a request. */
  #stopped = false;
  #upgradeHeadBytes = 0;
  #outgoing: OutgoingBody | undefined = undefined;
  readonly #onData = (chunk: Buffer): void => this.receive(chunk);
  readonly #onDrain = (): void => this.#drained();
  readonly #onClose = (): void => this.server.forget(this);

  constructor(readonly server: RawHttpServer, readonly socket: net.Socket) {
    this.parser = new RequestParser(server.limits);
    this.remoteAddress = socket.remoteAddress;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', destroySocket);
    socket.on('close', this.#onClose);
  }

  get idle(): boolean {
    return this.pending.length === 0 && !this.parser.midRequest && this.#outgoing === undefined;
  }

  /** Response bytes are still on their way to the client (queued in the socket or waiting as slices). */
  get sending(): boolean {
    return this.#outgoing !== undefined || this.socket.writableLength > 0;
  }

  receive(chunk: Buffer): void {
    this.lastActivityAt = Date.now();
    if (this.endedAt !== 0 || this.#stopped) return;
    const parser = this.parser;
    const wasUpgraded = parser.upgraded;
    const requests = parser.feed(chunk);
    if (wasUpgraded) {
      this.#upgradeHeadBytes += chunk.length;
      if (this.#upgradeHeadBytes > MAX_UPGRADE_HEAD_BYTES) this.socket.destroy();
      return;
    }
    for (let index = 0; index < requests.length; index++) this.#start(requests[index]!);
    if (parser.error !== undefined) {
      this.#queueFinal(errorResponse(parser.error.status));
    } else if (parser.midRequest) {
      // A chunk that completed requests and began another starts that one's own clock (RFC 9112 §9.3 pipelining).
      if (this.requestStartedAt === 0 || requests.length > 0) this.requestStartedAt = this.lastActivityAt;
    } else {
      this.requestStartedAt = 0;
    }
    this.flush();
  }

  /** Run the handler for one parsed request; a synchronous answer is ready at once, a Promise settles later. */
  #start(request: ParsedRequest): void {
    const server = this.server;
    // RFC 9110 §7.8: Upgrade may be ignored; a path without a WebSocket route is served as plain HTTP (then closed).
    const upgrade = request.upgrade && server.router !== undefined && server.router.hasWebSocketRoute(request.target);
    // Without a router nobody can take the socket over, and the parser has stopped: answer, then close.
    const exchange = new PendingExchange(request, request.keepAlive && !request.upgrade, request.method === 'HEAD', upgrade);
    this.pending.push(exchange);
    if (upgrade) return;
    const { path, query } = requestPathAndQuery(request.target);
    const serverRequest: ServerRequest = {
      method: request.method, path, query: new URLSearchParams(query), headers: request.headers, body: request.body,
      remoteAddress: this.remoteAddress, target: request.target, httpVersion: request.httpVersion,
    };
    let result: RouteResponse | Promise<RouteResponse>;
    try {
      result = server.handler(serverRequest);
    } catch (error) {
      logFailure('http', `${request.method} ${path}`, error);
      exchange.response = errorResponse(500);
      return;
    }
    if (isThenable(result)) {
      result.then((response) => this.settle(exchange, response), (error: unknown) => {
        logFailure('http', `${request.method} ${path}`, error);
        this.settle(exchange, errorResponse(500));
      });
    } else {
      exchange.response = result;
    }
  }

  settle(exchange: PendingExchange, response: RouteResponse): void {
    exchange.response = typeof response === 'object' && response !== null ? response : errorResponse(500);
    // Batch every response that becomes ready in this turn of the event loop into one write.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
  }

  /** Queue a last response (parse error, 408) after those already owed, and stop reading requests. */
  #queueFinal(response: RouteResponse): void {
    const exchange = new PendingExchange(undefined, false, false, false);
    exchange.response = response;
    this.#stopped = true;
    this.pending.push(exchange);
  }

  timeOutRequest(): void {
    this.requestStartedAt = 0;
    this.#queueFinal(errorResponse(408));
    this.flush();
  }

  /** Write every response that is ready at the head of the queue, in one socket write when possible. */
  flush(): void {
    const socket = this.socket;
    if (socket.destroyed || this.endedAt !== 0 || this.#outgoing !== undefined) return;
    const pending = this.pending;
    let text = '';
    let buffers: (string | Buffer)[] | undefined;
    let batchBytes = 0;
    let close = false;
    let upgrade: PendingExchange | undefined;
    let outgoing: OutgoingBody | undefined;
    // A batch stops at a slice's worth of bytes; the rest follows on 'drain' (see SEND_SLICE_BYTES).
    while (pending.length > 0 && this.endedAt === 0 && batchBytes < SEND_SLICE_BYTES) {
      const exchange = pending[0]!;
      if (exchange.isUpgrade) {
        upgrade = exchange;
        break;
      }
      const response = exchange.response;
      if (response === undefined) break;
      pending.shift();
      const keepAlive = exchange.keepAlive && !(this.draining && pending.length === 0);
      let status = response.status ?? 200;
      let body = response.body;
      let bodyLength = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      const version = exchange.request?.httpVersion;
      let head = responseHead(status, response.headers, bodyLength, !keepAlive ? 'close' : version === '1.0' ? 'keep-alive' : undefined);
      if (head === undefined) {
        logFailure('http', `${exchange.request?.method} ${exchange.request?.target}`, new Error(`handler answered with a status (${status}) or a header that cannot be sent`));
        const fallback = errorResponse(500);
        status = 500;
        body = fallback.body;
        bodyLength = Buffer.byteLength(body as string);
        head = responseHead(500, fallback.headers, bodyLength, keepAlive ? undefined : 'close')!;
      }
      batchBytes += head.length + bodyLength;
      if (exchange.isHead || body === undefined || bodyLength === 0 || statusForbidsContent(status)) {
        text += head;
      } else if (bodyLength > SEND_SLICE_BYTES) {
        (buffers ??= []).push(text + head);
        text = '';
        outgoing = { bytes: typeof body === 'string' ? Buffer.from(body) : body, offset: 0, close: !keepAlive };
        break;
      } else if (typeof body === 'string') {
        text += head + body;
      } else {
        (buffers ??= []).push(text + head, body);
        text = '';
      }
      if (!keepAlive) {
        close = true;
        break;
      }
    }
    if (buffers === undefined) {
      if (text.length > 0) socket.write(text);
    } else {
      if (text.length > 0) buffers.push(text);
      socket.cork();
      for (const part of buffers) socket.write(part);
      socket.uncork();
    }
    if (text.length > 0 || buffers !== undefined) this.lastActivityAt = this.sendProgressAt = Date.now();
    if (outgoing !== undefined) {
      this.#outgoing = outgoing;
      this.#sendSlices();
      return;
    }
    if (close) return this.end();
    if (upgrade !== undefined) return this.#handOver(upgrade.request!);
    if (pending.length === 0) {
      if (this.draining && !this.parser.midRequest) return this.end();
      // Only now can "100 Continue" not be mistaken for an interim answer to an earlier pipelined request.
      if (this.parser.continueRequested && this.parser.midRequest) {
        this.parser.continueRequested = false;
        socket.write(CONTINUE_LINE);
      }
    }
    this.updateFlow();
  }

  /** Write slices of the large body until the socket asks to wait; then the next 'drain' continues. */
  #sendSlices(): void {
    const outgoing = this.#outgoing!;
    const socket = this.socket;
    const bytes = outgoing.bytes;
    while (outgoing.offset < bytes.length) {
      if (socket.destroyed) return;
      const end = Math.min(outgoing.offset + SEND_SLICE_BYTES, bytes.length);
      const more = socket.write(bytes.subarray(outgoing.offset, end));
      outgoing.offset = end;
      if (!more) return this.updateFlow();
    }
    this.#outgoing = undefined;
    if (outgoing.close) return this.end();
    this.flush();
  }

  /**
   * The socket sent everything it held: that is progress. Continue a large body, or whatever waits behind the
   * last batch (responses, an upgrade hand-over, the end of a draining connection; flush() knows them all).
   */
  #drained(): void {
    this.lastActivityAt = this.sendProgressAt = Date.now();
    if (this.#outgoing !== undefined) this.#sendSlices();
    else this.flush();
  }

  /** Backpressure: stop reading while too many responses are queued or unsent, resume once they drain. */
  updateFlow(): void {
    const shouldPause = this.pending.length >= MAX_QUEUED_RESPONSES || this.#outgoing !== undefined ||
      this.socket.writableLength >= WRITE_BUFFER_HIGH_WATER_BYTES;
    if (shouldPause && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    } else if (!shouldPause && this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  /** End our side after the last response; keep reading (and dropping) so the client is not reset before it reads. */
  end(): void {
    if (this.endedAt !== 0) return;
    this.endedAt = Date.now();
    this.pending.length = 0;
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    this.socket.end();
  }

  /** Every earlier response is written: give the socket and the bytes after the request to the WebSocket side. */
  #handOver(request: ParsedRequest): void {
    const socket = this.socket;
    // Let go of the socket entirely: a WebSocket lives for hours, and nothing of this HTTP connection
    // (its parser, its queue) should stay alive with it. The error listener stays until the WebSocket
    // side adds its own.
    socket.removeListener('data', this.#onData);
    socket.removeListener('drain', this.#onDrain);
    socket.removeListener('close', this.#onClose);
    this.server.adopt(this);
    const head = this.parser.takeUpgradeHead();
    try {
      this.server.router!.handleUpgrade({ method: request.method, url: request.target, httpVersion: request.httpVersion, headers: request.headers }, socket, head);
    } catch (error) {
      logFailure('http', `upgrade ${request.target}`, error);
      socket.destroy();
    }
  }
}

class RawHttpServer implements HttpServer {
  readonly router: Router | undefined;
  readonly handler: ServerHandler;
  readonly limits: Partial<HttpLimits>;
  readonly timeouts: HttpTimeouts;
  readonly connections = new Set<Connection>();
  /** Sockets now owned by WebSocket routes; only terminate() touches them. */
  readonly upgradedSockets = new Set<net.Socket>();
  /** A tls.Server when serving TLS: it is a net.Server whose sockets arrive decrypted and already handshaken. */
  readonly #netServer: net.Server;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #closeWaiters: (() => void)[] = [];

  constructor(options: HttpServerOptions) {
    const router = options.router;
    if (router === undefined && options.handler === undefined) throw new Error('createHttpServer needs a router or a handler');
    this.router = router;
    this.handler = router !== undefined ? (request) => router.dispatch(request) : options.handler!;
    this.limits = options.limits ?? {};
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const accept = (socket: net.Socket): void => this.#accept(socket);
    this.#netServer = options.tls === undefined
      ? net.createServer({ noDelay: true }, accept)
      // A client that never finishes its handshake is held no longer than a request may take.
      : tls.createServer({ ...options.tls, noDelay: true, handshakeTimeout: this.timeouts.requestTimeoutMs }, accept);
  }

  listen(port: number, host?: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const server = this.#netServer;
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        this.#startSweeping();
        resolve(server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo | null {
    return this.#netServer.address() as AddressInfo | null;
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.#netServer.listening) this.#netServer.close();
    for (const connection of this.connections) {
      connection.draining = true;
      if (connection.idle) connection.end();
    }
    return new Promise((resolve) => {
      if (this.connections.size === 0) {
        this.#stopSweeping();
        resolve();
      } else {
        this.#closeWaiters.push(resolve);
      }
    });
  }

  terminate(): void {
    for (const connection of this.connections) connection.socket.destroy();
    for (const socket of this.upgradedSockets) socket.destroy();
    void this.close();
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
    if (this.#closing && this.connections.size === 0) {
      this.#stopSweeping();
      for (const resolve of this.#closeWaiters.splice(0)) resolve();
    }
  }

  /** A connection became a WebSocket: no longer ours to time out or drain. */
  adopt(connection: Connection): void {
    const socket = connection.socket;
    this.upgradedSockets.add(socket);
    // One listener shared by every upgraded socket ('close' fires once; `this` is the socket), so no
    // closure per WebSocket stays alive for the hours it may last.
    socket.on('close', this.#forgetUpgradedSocket);
    this.forget(connection);
  }

  readonly #forgetUpgradedSocket = forgetFrom(this.upgradedSockets);

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new Connection(this, socket));
  }

  /**
   * One timer per server instead of one per request: it checks every connection a few times per timeout period.
   * Stalled requests get 408 (slowloris defence), idle keep-alive connections are closed, ended ones are destroyed.
   * A connection still sending is never idle: it is destroyed only when its bytes stop moving (a client that
   * stopped reading), however long a slow reader takes.
   */
  #startSweeping(): void {
    const { requestTimeoutMs, keepAliveTimeoutMs, sendTimeoutMs } = this.timeouts;
    const period = Math.max(10, Math.min(1000, Math.floor(Math.min(requestTimeoutMs, keepAliveTimeoutMs, sendTimeoutMs) / 4)));
    this.#sweepTimer = setInterval(() => this.#sweep(), period);
    this.#sweepTimer.unref();
  }

  #stopSweeping(): void {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    const { requestTimeoutMs, keepAliveTimeoutMs, sendTimeoutMs } = this.timeouts;
    for (const connection of this.connections) {
      if (connection.endedAt !== 0) {
        // The linger runs from our last byte's progress too: a slow reader still gets the end of a large response.
        if (now - Math.max(connection.endedAt, connection.sendProgressAt) >= LINGER_MS) connection.socket.destroy();
      } else if (connection.requestStartedAt !== 0 && now - connection.requestStartedAt >= requestTimeoutMs) {
        connection.timeOutRequest();
      } else if (connection.sending) {
        if (now - connection.sendProgressAt >= sendTimeoutMs) connection.socket.destroy();
      } else if (connection.idle && now - connection.lastActivityAt >= keepAliveTimeoutMs) {
        connection.socket.destroy();
      }
    }
  }
}

/** Create the raw server; call listen() on the result. The same Router also runs on node:http (node-adapter.ts). */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  return new RawHttpServer(options);
}
