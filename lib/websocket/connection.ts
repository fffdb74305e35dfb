// A WebSocket connection over a socket (node:net, node:tls, or the socket node:http hands over on
// 'upgrade'): the adapter that runs the sans-I/O protocol (protocol.ts) on real I/O.
// It owns what the core does not: the socket, backpressure, the close timeout and the heartbeat
// (RFC 6455 §5.5.2–5.5.3 ping/pong, §7.1.1 "the server closes the TCP connection first").

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode } from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { PreparedMessage } from './prepared-message.ts';
import { ProtocolState, WebSocketProtocol, type CloseInfo, type ProtocolHandler, type Role } from './protocol.ts';
import { WriteBatcher } from './write-batcher.ts';

/** The socket's own link back to its connection, read by the shared socket listeners below. */
const CONNECTION = Symbol('WebSocketConnection');
type LinkedSocket = Duplex & { [CONNECTION]: WebSocketConnection };

/** The states of the WebSocket API (as in browsers' `WebSocket.readyState`). */
export const ReadyState = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

export interface HeartbeatOptions {
  /** Send a ping this often. */
  intervalMs: number;
  /** Terminate the connection when no pong came back within this long after a ping (default: intervalMs). */
  timeoutMs?: number;
}

export interface ConnectionOptions {
  maxMessageBytes?: number;
  maxFragments?: number;
  /** `send` answers false while more than this is buffered (default 1 MiB). */
  highWaterMark?: number;
  /** More than this buffered for a peer that does not read: the connection is cut, reported as 1008 (default 64 MiB). */
  maxBufferedBytes?: number;
  /** How long to wait for the peer's close frame and the end of TCP once a close is under way (default 5 s). */
  closeTimeoutMs?: number;
  /** Off unless asked for: some peers (the day-19 validator) treat any unexpected ping as a failure. */
  heartbeat?: HeartbeatOptions;
  /** No bytes in either direction for this long: close with 1001 (default: off). */
  idleTimeoutMs?: number;
}

export interface WebSocketConnectionEvents {
  message: [data: Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** Always last, once, when the TCP connection is gone. */
  close: [code: number, reason: string, wasClean: boolean];
  /** A protocol violation, a limit, a timeout or a socket error. Never thrown: with no listener it is only reflected in `close`. */
  error: [error: Error];
  /** The buffered amount fell back under the high-water mark after a `send` answered false. */
  drain: [];
}

export class WebSocketConnection extends EventEmitter<WebSocketConnectionEvents> {
  readonly role: Role;
  /** The subprotocol agreed in the handshake ('' for none). */
  readonly protocol: string;

  private readonly core: WebSocketProtocol;
  private readonly output: WriteBatcher;
  private readonly highWaterMark: number;
  private readonly maxBufferedBytes: number;
  private readonly closeTimeoutMs: number;
  private closeInfo: CloseInfo | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Last time bytes went either way; kept only while an idle timeout is set. */
  private lastActivityAt = 0;
  private waitingForDrain = false;
  private closeEmitted = false;
  private applicationData: Record<string, unknown> | undefined;
  private peerAddress: string | undefined;

  constructor(
    private readonly socket: Duplex,
    role: Role,
    options: ConnectionOptions & { protocol?: string; head?: Buffer } = {},
  ) {
    super();
    this.role = role;
    this.protocol = options.protocol ?? '';
    this.highWaterMark = options.highWaterMark ?? DEFAULT_LIMITS.highWaterMark;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_LIMITS.maxBufferedBytes;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_LIMITS.closeTimeoutMs;
    // Memory: an idle server holds thousands of connections, so none of them gets closures of its own.
    // The core's callbacks are one small object with its methods on a prototype, and the socket
    // listeners are shared functions that find the connection through the socket.
    const events = new WebSocketConnection.CoreEvents(this);
    this.output = new WriteBatcher(socket, events);
    this.core = new WebSocketProtocol(events, { role, maxMessageBytes: options.maxMessageBytes, maxFragments: options.maxFragments });

    const tcp = socket as Duplex & { setNoDelay?(noDelay: boolean): void; setTimeout?(ms: number): void };
    tcp.setNoDelay?.(true);
    tcp.setTimeout?.(0);
    (socket as LinkedSocket)[CONNECTION] = this;
    socket.on('data', WebSocketConnection.onSocketData);
    socket.on('end', WebSocketConnection.onSocketEnd);
    socket.on('close', WebSocketConnection.onSocketClose);
    socket.on('error', WebSocketConnection.onSocketError);
    socket.on('drain', WebSocketConnection.onSocketDrain);

    // Bytes that came in with the upgrade are parsed once the caller has had the chance to attach its
    // 'message' listener: setImmediate, not nextTick, because `await connect()` attaches it in a
    // microtask, which runs after nextTick callbacks. The socket is paused meanwhile to keep the order.
    const head = options.head;
    if (head && head.length > 0) {
      socket.pause();
      setImmediate(() => {
        this.core.receive(head);
        socket.resume();
      });
    }
    if (options.heartbeat) this.startHeartbeat(options.heartbeat);
    if (options.idleTimeoutMs) this.startIdleTimer(options.idleTimeoutMs);
  }

  /** Free for the application: a room name, a user id… (created on first use). */
  get data(): Record<string, unknown> {
    return (this.applicationData ??= {});
  }

  set data(value: Record<string, unknown>) {
    this.applicationData = value;
  }

  /**
   * The peer's IP address. Asked of the socket on first use, not per connection up front: it is a system
   * call (getpeername) most servers never need. Read it while the connection is open.
   */
  get remoteAddress(): string | undefined {
    return (this.peerAddress ??= (this.socket as { remoteAddress?: string }).remoteAddress);
  }

  get readyState(): ReadyState {
    if (this.closeEmitted) return ReadyState.Closed;
    return this.core.state === ProtocolState.Open ? ReadyState.Open : ReadyState.Closing;
  }

  /** Bytes queued for the peer: ours not yet handed to the socket plus the socket's own buffer. */
  get bufferedAmount(): number {
    return this.output.pendingBytes + this.socket.writableLength;
  }

  /**
   * Send a message: a string goes as text, bytes as binary (or as text with `{ binary: false }`, which
   * trusts the caller that they are UTF-8). Returns false when the message was not sent (the connection
   * is closing) or when the buffer is over the high-water mark — then wait for 'drain'.
   */
  send(data: string | Buffer | Uint8Array, options: { binary?: boolean } = {}): boolean {
    const isBinary = options.binary ?? typeof data !== 'string';
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!this.core.send(bytes, isBinary)) return false;
    return this.underHighWaterMark();
  }

  /**
   * Send one message as several frames, one per part (§5.4 fragmentation): for a message produced in
   * pieces, or to show fragmentation to a learner. Same return value as `send`.
   */
  sendFragments(parts: ReadonlyArray<string | Buffer>, options: { binary?: boolean } = {}): boolean {
    const isBinary = options.binary ?? typeof parts[0] !== 'string';
    const buffers = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
    if (!this.core.sendFragments(buffers, isBinary)) return false;
    return this.underHighWaterMark();
  }

  /** Send a message framed once for many connections (see broadcast.ts). */
  sendPrepared(message: PreparedMessage): boolean {
    const sent = this.role === 'server' ? this.core.sendPrepared(message.frame) : this.core.send(message.payload, message.isBinary);
    if (!sent) return false;
    return this.underHighWaterMark();
  }

  ping(payload: string | Buffer = EMPTY): boolean {
    return this.core.ping(typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  pong(payload: string | Buffer = EMPTY): boolean {
    return this.core.pong(typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  /** Start the close handshake (RFC 6455 §7.1.2). The 'close' event follows once TCP is closed. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.core.state !== ProtocolState.Open) return;
    this.core.close(code, reason);
    this.armCloseTimer();
  }

  /** Cut the connection now, without a close handshake (reported as 1006). */
  terminate(): void {
    this.output.discard();
    this.socket.destroy();
    // The protocol is closed now, not when the socket's 'close' event comes a tick later: from here on
    // readyState is Closing and send() answers false.
    this.core.transportClosed();
  }

  /** Ping every `intervalMs`; a peer that leaves a ping unanswered for `timeoutMs` is terminated. */
  startHeartbeat(options: HeartbeatOptions): void {
    this.stopHeartbeat();
    const timeoutMs = options.timeoutMs ?? options.intervalMs;
    this.heartbeatTimer = setInterval(() => {
      if (!this.ping()) return;
      this.pongTimer ??= setTimeout(() => {
        // Timers run before the event loop reads sockets: after a long pause (GC, a busy handler) the pong
        // may be waiting unread. Judge after one turn of I/O; onPong clears pongTimer if it was there.
        setImmediate(() => {
          if (this.pongTimer === undefined) return;
          this.reportError(new WebSocketError('HEARTBEAT_TIMEOUT', CloseCode.Abnormal, `no pong within ${timeoutMs} ms`));
          this.terminate();
        });
      }, timeoutMs).unref();
    }, options.intervalMs);
    this.heartbeatTimer.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pongTimer);
    this.heartbeatTimer = undefined;
    this.pongTimer = undefined;
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────────────

  // Socket listeners, shared by every connection: `this` is the socket (EventEmitter calls a listener
  // with its emitter), which carries its connection.
  private static onSocketData(this: LinkedSocket, chunk: Buffer): void {
    if (this[CONNECTION].idleTimer !== undefined) this[CONNECTION].lastActivityAt = Date.now();
    this[CONNECTION].core.receive(chunk);
  }

  private static onSocketEnd(this: LinkedSocket): void {
    this[CONNECTION].endSocket();
  }

  private static onSocketClose(this: LinkedSocket): void {
    this[CONNECTION].socketClosed();
  }

  private static onSocketError(this: LinkedSocket, error: Error): void {
    this[CONNECTION].reportError(new WebSocketError('SOCKET_ERROR', CloseCode.Abnormal, error.message));
  }

  private static onSocketDrain(this: LinkedSocket): void {
    this[CONNECTION].drained();
  }

  /**
   * The protocol core's handler for one connection, and the write batcher's flush listener: one object
   * whose methods live on a prototype, instead of a closure per callback per connection. Declared inside
   * the class so it may call the connection's private methods.
   */
  private static readonly CoreEvents = class CoreEvents implements ProtocolHandler {
    constructor(private readonly connection: WebSocketConnection) {}

    write(data: Buffer): void {
      this.connection.write(data);
    }

    onMessage(data: Buffer, isBinary: boolean): void {
      this.connection.emit('message', data, isBinary);
    }

    onPing(payload: Buffer): void {
      this.connection.emit('ping', payload);
    }

    onPong(payload: Buffer): void {
      this.connection.onPong(payload);
    }

    onClose(info: CloseInfo): void {
      this.connection.onProtocolClose(info);
    }

    onError(error: Error): void {
      this.connection.reportError(error);
    }

    afterFlush(): void {
      this.connection.afterFlush();
    }
  };

  private write(data: Buffer): void {
    if (this.idleTimer !== undefined) this.lastActivityAt = Date.now();
    this.output.write(data);
    if (this.bufferedAmount > this.maxBufferedBytes) {
      // The peer is not reading. A close frame would queue behind everything else, so cut the connection.
      const error = new WebSocketError('SEND_BUFFER_FULL', CloseCode.PolicyViolation, `more than ${this.maxBufferedBytes} bytes buffered for a peer that is not reading`);
      this.closeInfo ??= { code: error.closeCode, reason: error.message, wasClean: false };
      this.reportError(error);
      this.terminate();
    }
  }

  private underHighWaterMark(): boolean {
    if (this.bufferedAmount <= this.highWaterMark) return true;
    this.waitingForDrain = true;
    return false;
  }

  private drained(): void {
    if (this.waitingForDrain && this.bufferedAmount <= this.highWaterMark) {
      this.waitingForDrain = false;
      this.emit('drain');
    }
  }

  /**
   * The socket emits 'drain' only after a write it refused (over its own high-water mark, 16 KiB by
   * default). With a lower mark of ours, ask the socket to call back once everything so far is written.
   */
  private afterFlush(): void {
    if (!this.waitingForDrain) return;
    if (this.bufferedAmount <= this.highWaterMark) return this.drained();
    if (!this.socket.writableNeedDrain && !this.socket.writableEnded && !this.socket.destroyed) {
      this.socket.write(EMPTY, () => this.drained());
    }
  }

  private onPong(payload: Buffer): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    this.emit('pong', payload);
  }

  /** The close handshake is complete, or the connection failed: now close TCP (§7.1.1). */
  private onProtocolClose(info: CloseInfo): void {
    this.closeInfo ??= info;
    this.stopHeartbeat();
    if (this.role === 'server' || !info.wasClean) {
      // The server closes TCP first; after a failure either side may. Flush the close frame first.
      this.output.flush();
      if (!this.socket.writableEnded) this.socket.end();
    }
    // The client waits for the server to close TCP, but not forever.
    this.armCloseTimer();
  }

  /** The peer ended its side of TCP. Whatever the state, there is nothing more to read: end ours. */
  private endSocket(): void {
    this.output.flush();
    // Usually ours is ended already (the close handshake): ending twice makes Node build an error object.
    if (!this.socket.writableEnded) this.socket.end();
  }

  private socketClosed(): void {
    this.stopHeartbeat();
    clearTimeout(this.idleTimer);
    clearTimeout(this.closeTimer);
    this.output.discard();
    this.core.transportClosed(); // reports 1006 through onProtocolClose if no close handshake happened
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const info = this.closeInfo ?? { code: CloseCode.Abnormal, reason: '', wasClean: false };
    this.emit('close', info.code, info.reason, info.wasClean);
  }

  private armCloseTimer(): void {
    // Once TCP is gone there is nothing left to wait for (and a timer would report a stale timeout).
    if (this.closeTimer !== undefined || this.socket.destroyed) return;
    this.closeTimer = setTimeout(() => {
      this.reportError(new WebSocketError('CLOSE_TIMEOUT', CloseCode.Abnormal, `close handshake not finished within ${this.closeTimeoutMs} ms`));
      this.socket.destroy();
    }, this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /**
   * Idle timeout: one timer per connection, not one reset per frame. When it fires it looks at the last
   * activity and either closes with 1001 (Going Away) or waits for the rest of the period.
   */
  private startIdleTimer(idleTimeoutMs: number): void {
    this.lastActivityAt = Date.now();
    const check = (): void => {
      const idleFor = Date.now() - this.lastActivityAt;
      if (idleFor < idleTimeoutMs) {
        this.idleTimer = setTimeout(check, idleTimeoutMs - idleFor).unref();
      } else if (this.core.state === ProtocolState.Open) {
        this.close(CloseCode.GoingAway, `idle for ${idleTimeoutMs} ms`);
      }
    };
    this.idleTimer = setTimeout(check, idleTimeoutMs).unref();
  }

  private reportError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

const EMPTY = Buffer.alloc(0);

