// A WebSocket connection over a socket (node:net, node:tls, or the socket node:http hands over on
// 'upgrade'): the adapter that runs the sans-I/O protocol (protocol.ts) on real I/O.
// It owns what the core does not: the socket, backpressure, the close timeout and the heartbeat
// (RFC 6455 §5.5.2–5.5.3 ping/pong, §7.1.1 "the server closes the TCP connection first"), and the
// application's listeners: they run only after the core has parsed a whole chunk, and whatever they
// throw is the application's failure (closed with 1011), never a framing error of the peer.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, encodeClosePayload } from './close-codes.ts';
import { CompressionStage, type InflatedMessage } from './compression-stage.ts';
import { WebSocketError } from './errors.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { DeflateAgreement } from './permessage-deflate/handshake.ts';
import type { PerMessageDeflateOptions } from './permessage-deflate/options.ts';
import type { PreparedMessage } from './prepared-message.ts';
import { ProtocolEventKind, ProtocolState, WebSocketProtocol, type CloseInfo, type ProtocolEvent, type ProtocolOutput, type Role } from './protocol.ts';
import { WriteBatcher } from './write-batcher.ts';

/** The socket's own link back to its connection, read by the shared socket listeners below. */
const CONNECTION = Symbol('WebSocketConnection');
type LinkedSocket = Duplex & { [CONNECTION]: WebSocketConnection };

/**
 * The states of the WebSocket API, with browsers' numbers (`WebSocket.readyState`). There is no
 * Connecting (0): a connection object exists only once its opening handshake has succeeded.
 */
export const ReadyState = { Open: 1, Closing: 2, Closed: 3 } as const;
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
  /**
   * permessage-deflate (RFC 7692; docs/permessage-deflate.md): off unless given. `true` for the
   * defaults, or the parameters to negotiate and the local settings (threshold, level, memLevel).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** What the handshake settled, for the connection it hands over. */
export interface HandshakeOutcome {
  /** The subprotocol agreed ('' or undefined for none). */
  protocol?: string;
  /** Bytes that arrived behind the handshake: the first frames. */
  head?: Buffer;
  /** The Sec-WebSocket-Extensions value agreed, and permessage-deflate's parameters if it is the one. */
  extensions?: string;
  deflate?: DeflateAgreement;
}

export interface WebSocketConnectionEvents {
  message: [data: Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** Always last, once, when the TCP connection is gone. */
  close: [code: number, reason: string, wasClean: boolean];
  /**
   * A protocol violation, a limit, a timeout, a socket error, or an exception thrown by one of this
   * connection's listeners (code 'APPLICATION_ERROR', the exception as `cause`). Never thrown: with no
   * listener a violation is only reflected in `close`, and a listener's exception is logged.
   */
  error: [error: Error];
  /** The buffered amount fell back under the high-water mark after a `send` answered false. */
  drain: [];
}

export class WebSocketConnection extends EventEmitter<WebSocketConnectionEvents> {
  readonly role: Role;
  /** The subprotocol agreed in the handshake ('' for none). */
  readonly protocol: string;
  /** The extensions agreed in the handshake, as the Sec-WebSocket-Extensions value ('' for none). */
  readonly extensions: string;

  private readonly core: WebSocketProtocol;
  private readonly output: WriteBatcher;
  /** permessage-deflate, when negotiated. */
  private readonly compression: CompressionStage | undefined;
  /** A received message is being inflated: no further event is taken from the core, the socket is paused. */
  private inflating = false;
  /** The peer's close waits in the core for the messages still being compressed (closeMustWait). */
  private closeWaiting = false;
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
  /** Events are being handed to the application (a listener that closes or sends must not re-enter). */
  private delivering = false;
  /** A listener threw: the connection is closing with 1011 and gets no more messages, pings or pongs. */
  private applicationFailed = false;
  private applicationData: Record<string, unknown> | undefined;
  private peerAddress: string | undefined;

  constructor(
    private readonly socket: Duplex,
    role: Role,
    options: ConnectionOptions & HandshakeOutcome = {},
  ) {
    super();
    this.role = role;
    this.protocol = options.protocol ?? '';
    this.extensions = options.extensions ?? '';
    this.highWaterMark = options.highWaterMark ?? DEFAULT_LIMITS.highWaterMark;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_LIMITS.maxBufferedBytes;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_LIMITS.closeTimeoutMs;
    // Memory: an idle server holds thousands of connections, so none of them gets closures of its own.
    // The core's callbacks are one small object with its methods on a prototype, and the socket
    // listeners are shared functions that find the connection through the socket.
    const events = new WebSocketConnection.CoreEvents(this);
    this.output = new WriteBatcher(socket, events);
    const deflate = options.deflate;
    this.core = new WebSocketProtocol(events, { role, maxMessageBytes: options.maxMessageBytes, maxFragments: options.maxFragments, compression: deflate !== undefined });
    if (deflate !== undefined) {
      const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
      this.compression = new CompressionStage(deflate.params, role, deflate.options, maxMessageBytes, (error) => this.compressionFailed(error));
    }

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
        this.receive(head);
        if (!this.inflating) socket.resume();
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
    return this.output.pendingBytes + this.socket.writableLength + (this.compression?.pendingBytes ?? 0);
  }

  /**
   * Send a message: a string goes as text, bytes as binary (or as text with `{ binary: false }`, which
   * trusts the caller that they are UTF-8). Returns false when the message was not sent (the connection
   * is closing) or when the buffer is over the high-water mark — then wait for 'drain'.
   */
  send(data: string | Buffer | Uint8Array, options: { binary?: boolean } = {}): boolean {
    const isBinary = options.binary ?? typeof data !== 'string';
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const compression = this.compression;
    if (compression !== undefined && (!compression.idle || compression.shouldCompress(bytes.length))) {
      return this.sendThroughCompression(compression, [bytes], isBinary);
    }
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
    const compression = this.compression;
    if (compression !== undefined && (!compression.idle || compression.shouldCompress(totalLength(buffers)))) {
      return this.sendThroughCompression(compression, buffers, isBinary);
    }
    if (!this.core.sendFragments(buffers, isBinary)) return false;
    return this.underHighWaterMark();
  }

  /**
   * A message through the compression stage: deflated whole if it is over the threshold (RFC 7692
   * compresses messages, not frames), then sent as as many frames as it was given parts, RSV1 on the
   * first; in call order with everything else the stage holds.
   */
  private sendThroughCompression(compression: CompressionStage, parts: Buffer[], isBinary: boolean): boolean {
    if (this.core.state !== ProtocolState.Open) return false;
    const message = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    compression.enqueue(message, compression.shouldCompress(message.length), (payload, compressed) => {
      if (parts.length === 1) this.core.send(payload, isBinary, compressed);
      else this.core.sendFragments(splitInto(payload, parts.length), isBinary, compressed);
    });
    return this.underHighWaterMark();
  }

  /** Send a message framed once for many connections (see broadcast.ts). */
  sendPrepared(message: PreparedMessage): boolean {
    const compression = this.compression;
    if (compression !== undefined) {
      // Behind a message still being compressed, the prepared message waits its turn like any other.
      if (!compression.idle) return this.sendThroughCompression(compression, [message.payload], message.isBinary);
      // Without context takeover, the frame compressed once for everyone fits this connection as it is.
      const windowBits = compression.sharedFrameWindow(message.payload.length);
      if (windowBits !== undefined) return this.core.sendPrepared(message.compressedFrame(windowBits)) && this.underHighWaterMark();
    }
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
    if (this.compression !== undefined && !this.compression.idle) {
      encodeClosePayload(code, reason); // a bad code or reason throws now, not later from the queue
      this.compression.enqueueAction(0, () => this.close(code, reason));
      return;
    }
    this.core.close(code, reason);
    this.armCloseTimer();
  }

  /** Cut the connection now, without a close handshake (reported as 1006). */
  terminate(): void {
    this.releaseCompression();
    this.output.discard();
    this.socket.destroy();
    // The protocol is closed now, not when the socket's 'close' event comes a tick later: from here on
    // readyState is Closing and send() answers false.
    this.core.transportClosed();
    this.deliverEvents();
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
    const connection = this[CONNECTION];
    if (connection.idleTimer !== undefined) connection.lastActivityAt = Date.now();
    connection.receive(chunk);
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
   * The protocol core's output for one connection, and the write batcher's flush listener: one object
   * whose methods live on a prototype, instead of a closure per callback per connection. Declared inside
   * the class so it may call the connection's private methods.
   */
  private static readonly CoreEvents = class CoreEvents implements ProtocolOutput {
    constructor(private readonly connection: WebSocketConnection) {}

    write(data: Buffer): void {
      this.connection.write(data);
    }

    afterFlush(): void {
      this.connection.afterFlush();
    }
  };

  private receive(chunk: Buffer): void {
    this.core.receive(chunk);
    // More input while a message is still being inflated: stop reading until it is delivered
    // (backpressure; pausing only now spares a pause/resume pair per message when the peer waits).
    if (this.inflating) this.socket.pause();
    else this.deliverEvents();
  }

  /**
   * Hand the application what the core found. The parse is over by now, so an exception thrown here
   * is the application's: it fails this connection with 1011 and nothing else. Hot path: one loop, one
   * reused record per event.
   */
  private deliverEvents(): void {
    // A listener that calls terminate() lands here again: the loop below takes the new events. While a
    // message is being inflated, nothing behind it may be handed out.
    if (this.delivering || this.inflating) return;
    this.delivering = true;
    for (;;) {
      if (this.compression !== undefined && this.closeMustWait(this.compression)) break;
      const event = this.core.nextEvent();
      if (event === undefined) break;
      try {
        this.deliver(event);
      } catch (error) {
        this.failApplication(error);
      }
      if (this.inflating) break; // the rest waits in the core until this message is inflated
    }
    this.delivering = false;
  }

  /**
   * The peer's close is next, and the answer the core writes as it hands the close out would overtake
   * messages the application sent that are still being compressed: take it once they are out.
   */
  private closeMustWait(compression: CompressionStage): boolean {
    if (compression.idle || this.core.nextEventKind !== ProtocolEventKind.Close) return false;
    if (!this.closeWaiting) {
      this.closeWaiting = true;
      compression.enqueueAction(0, () => {
        this.closeWaiting = false;
        this.deliverEvents();
      });
    }
    return true;
  }

  /**
   * A compressed message: inflate it before anything behind it is handed out. Reading pauses if more
   * arrives meanwhile (see receive: a peer cannot pile up inflate work), and resumes once it is delivered.
   */
  private inflate(compression: CompressionStage, data: Buffer, isBinary: boolean): void {
    const inflated = compression.inflateMessage(data, isBinary);
    // Inflated on the spot: delivered like any other message (deliverEvents catches what a listener throws).
    if (!(inflated instanceof Promise)) return this.deliverInflated(inflated, isBinary);
    this.inflating = true;
    void inflated.then((result) => {
      if (!this.inflating) return; // released: the connection is gone
      this.inflating = false;
      try {
        this.deliverInflated(result, isBinary);
      } catch (error) {
        this.failApplication(error);
      }
      this.deliverEvents();
      if (!this.inflating && this.socket.isPaused() && !this.socket.destroyed) this.socket.resume();
    });
  }

  /** zlib failed to compress a message we send (1011); reported like any connection error. */
  private compressionFailed(error: WebSocketError): void {
    this.reportError(error);
    this.close(error.closeCode, 'internal error');
  }

  private releaseCompression(): void {
    this.inflating = false;
    this.compression?.release();
  }

  /** A message out of the decompressor: to the application, or the connection fails with zlib's verdict. */
  private deliverInflated(result: InflatedMessage, isBinary: boolean): void {
    if (!result.ok) this.core.failConnection(result.error);
    else if (!this.applicationFailed) this.emit('message', result.data, isBinary);
  }

  private deliver(event: ProtocolEvent): void {
    switch (event.kind) {
      case ProtocolEventKind.Message:
        if (event.compressed) this.inflate(this.compression!, event.data, event.isBinary);
        else if (!this.applicationFailed) this.emit('message', event.data, event.isBinary);
        break;
      case ProtocolEventKind.Ping:
        if (!this.applicationFailed) this.emit('ping', event.data);
        break;
      case ProtocolEventKind.Pong:
        this.onPong(event.data);
        break;
      case ProtocolEventKind.Error:
        this.reportError(event.error!);
        break;
      case ProtocolEventKind.Close:
        this.onProtocolClose(event.close!);
        break;
    }
  }

  /**
   * A listener threw. Report it (the 'error' event, or one console.error line when nobody listens) and
   * close with 1011 and a fixed reason: the exception's text may hold secrets and never goes to the peer.
   */
  private failApplication(exception: unknown): void {
    if (this.applicationFailed) return; // once per connection: the first exception is the one that matters
    this.applicationFailed = true;
    const error = new WebSocketError('APPLICATION_ERROR', CloseCode.InternalError, `a listener threw: ${String(exception)}`, { cause: exception });
    if (this.listenerCount('error') > 0) this.reportError(error);
    else console.error('WebSocket connection closed with 1011: a listener threw', exception);
    this.close(CloseCode.InternalError, 'internal error');
  }

  private write(data: Buffer): void {
    if (this.idleTimer !== undefined) this.lastActivityAt = Date.now();
    this.output.write(data);
    if (this.bufferedAmount > this.maxBufferedBytes) this.cutSlowReader();
  }

  /**
   * The peer is not reading. A close frame would queue behind everything else, so cut the connection.
   * This may run in the middle of a parse (the core writing a pong) or of a send: the application hears
   * of it on the next tick, never from inside either.
   */
  private cutSlowReader(): void {
    const error = new WebSocketError('SEND_BUFFER_FULL', CloseCode.PolicyViolation, `more than ${this.maxBufferedBytes} bytes buffered for a peer that is not reading`);
    this.closeInfo ??= { code: error.closeCode, reason: error.message, wasClean: false };
    this.output.discard();
    this.socket.destroy();
    this.core.transportClosed();
    process.nextTick(WebSocketConnection.reportSlowReader, this, error);
  }

  private static reportSlowReader(connection: WebSocketConnection, error: WebSocketError): void {
    connection.reportError(error);
    connection.deliverEvents();
  }

  private underHighWaterMark(): boolean {
    if (this.bufferedAmount <= this.highWaterMark) return true;
    this.waitingForDrain = true;
    return false;
  }

  private drained(): void {
    if (this.waitingForDrain && this.bufferedAmount <= this.highWaterMark) {
      this.waitingForDrain = false;
      try {
        this.emit('drain');
      } catch (error) {
        this.failApplication(error);
      }
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
    this.releaseCompression();
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
    this.releaseCompression();
    this.stopHeartbeat();
    clearTimeout(this.idleTimer);
    clearTimeout(this.closeTimer);
    this.output.discard();
    this.core.transportClosed(); // reports 1006 through onProtocolClose if no close handshake happened
    this.deliverEvents();
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const info = this.closeInfo ?? { code: CloseCode.Abnormal, reason: '', wasClean: false };
    try {
      this.emit('close', info.code, info.reason, info.wasClean);
    } catch (error) {
      // Nothing is left to close: only the log can tell.
      console.error("WebSocket: a 'close' listener threw", error);
    }
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
    if (this.listenerCount('error') === 0) return;
    try {
      this.emit('error', error);
    } catch (exception) {
      // An 'error' listener that throws cannot be told through 'error' again.
      console.error("WebSocket: an 'error' listener threw", exception);
      this.applicationFailed = true;
      this.close(CloseCode.InternalError, 'internal error');
    }
  }
}

const EMPTY = Buffer.alloc(0);

function totalLength(buffers: readonly Buffer[]): number {
  let length = 0;
  for (const buffer of buffers) length += buffer.length;
  return length;
}

/** `count` consecutive views of `payload`, as even as can be (the last may be empty for a tiny payload). */
function splitInto(payload: Buffer, count: number): Buffer[] {
  const size = Math.ceil(payload.length / count);
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index++) parts.push(payload.subarray(Math.min(index * size, payload.length), Math.min((index + 1) * size, payload.length)));
  return parts;
}

