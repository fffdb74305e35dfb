// One Redis connection that keeps itself up (RESP "Networking layer": a TCP connection, here node:net, or
// node:tls for rediss://), the connect handshake (the AUTH command with or without a username, SELECT,
// CLIENT SETNAME) before anything else is sent, and reconnection with exponential backoff and jitter
// (a random delay in the upper half of the step) when the connection drops. What travels on the connection
// once it is ready — pipelined commands, or pub/sub — is the business of the subclass (client.ts,
// subscriber.ts), through the hooks at the bottom.
//
// Errors: every failure (connect refused, connection lost, protocol error, handshake refused) is emitted
// as 'error' when someone listens. With no 'error' listener the client must not crash the process (an
// EventEmitter throws an unheard 'error'), so it writes ONE line to stderr per outage instead — the first
// failure after being ready (or the first failed connect) — and stays quiet until it is ready again.

import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeCommands, type CommandArgument } from './command-encoder.ts';
import { RedisConnectionError, RedisReplyError } from './errors.ts';
import { ReplyParser, type RedisReply, type ReplyParserLimits } from './reply-parser.ts';
import { describeEndpoint, parseRedisUrl, type RedisEndpoint } from './url.ts';

export interface RedisOptions {
  /** A command with no reply after this long fails with TIMEOUT, counted from send() (time queued included). 0: never. Default 10 s. */
  commandTimeoutMs?: number;
  /** Commands waiting for a reply, queued or in flight, beyond which send() fails fast with QUEUE_FULL. Default 100,000. */
  maxQueuedCommands?: number;
  /** A connect (TCP, TLS and the AUTH/SELECT handshake) taking longer fails and is retried. Default 5 s. */
  connectTimeoutMs?: number;
  /** Delay before reconnect attempt n: a random value in [d/2, d], d = min(maxDelayMs, initialDelayMs · 2^(n-1)). Defaults 100 ms, 2 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** TLS options for rediss:// URLs (ca, cert, key, rejectUnauthorized, …). */
  tls?: tls.ConnectionOptions;
  /** Sent as CLIENT SETNAME on every connect, so the connection shows in CLIENT LIST. */
  name?: string;
  /** Limits of the reply parser against a broken or hostile server. */
  replyLimits?: Partial<ReplyParserLimits>;
}

export interface ReconnectingInfo {
  /** 1 for the first attempt after a loss. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended or the previous attempt failed. */
  error: Error;
}

interface Settings {
  commandTimeoutMs: number;
  maxQueuedCommands: number;
  connectTimeoutMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

function settingsOf(options: RedisOptions): Settings {
  const settings = {
    commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
    maxQueuedCommands: options.maxQueuedCommands ?? 100_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
    maxDelayMs: options.reconnect?.maxDelayMs ?? 2_000,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`Redis option ${name} must be a number ≥ 0, not ${value}`);
  }
  if (settings.maxQueuedCommands < 1) throw new RangeError('Redis option maxQueuedCommands must be at least 1');
  return settings;
}

export abstract class RedisConnection extends EventEmitter {
  protected readonly endpoint: RedisEndpoint;
  protected readonly settings: Settings;
  private readonly options: RedisOptions;
  private socket: net.Socket | undefined;
  private parser: ReplyParser | undefined;
  /** Replies of the chunk being handled (reused: one array per connection, not per chunk). */
  private readonly replies: RedisReply[] = [];
  /** Replies still expected to the handshake commands; -1 once the handshake is done. */
  private handshakeRemaining = -1;
  private handshakeError: RedisReplyError | undefined;
  private ready = false;
  /** The handshake on the current socket is done: commands can be written (a subscriber may still be resubscribing). */
  private handshakeDone = false;
  private quitSent = false;
  /** Why the current socket is being torn down by us (timeout, protocol error, refused handshake). */
  private resetReason: Error | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private inOutage = false;
  private closing = false;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(url: string, options: RedisOptions = {}) {
    super();
    this.endpoint = parseRedisUrl(url);
    this.settings = settingsOf(options);
    this.options = options;
    this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
    this.connect();
  }

  /** Connected, handshake done (and for a subscriber, resubscribed): commands go out now. */
  get isReady(): boolean {
    return this.ready;
  }

  /** quit() or disconnect() was called: nothing more will be sent. */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Close politely: what is queued is sent, then QUIT; resolves once the server has closed the connection.
   * While connecting, it waits for the connection to be ready first (so `send(…); quit()` works); while
   * waiting to reconnect, it closes at once and queued commands fail with CLOSED.
   */
  quit(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      clearTimeout(this.reconnectTimer);
      if (this.handshakeDone) this.beginQuit();
      else if (!this.socket) this.finishClosing();
      // else: connecting; finishHandshake() quits once the handshake is done, onClosed() if it fails.
    }
    return this.closedPromise;
  }

  /** Close now, without QUIT: whatever is in flight fails with CONNECTION_LOST, whatever is queued with CLOSED. */
  disconnect(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      clearTimeout(this.reconnectTimer);
      if (this.socket) this.socket.destroy();
      else this.finishClosing();
    } else {
      this.socket?.destroy();
    }
    return this.closedPromise;
  }

  /** Write encoded bytes on the ready connection (several buffers go out corked, as one write). */
  protected write(buffers: Buffer[]): void {
    const socket = this.socket!;
    if (buffers.length === 1) {
      socket.write(buffers[0]);
      return;
    }
    socket.cork();
    for (const buffer of buffers) socket.write(buffer);
    socket.uncork();
  }

  /** Tear the connection down (a timeout, a reply nobody asked for); it reconnects unless closing. */
  protected reset(reason: Error): void {
    if (!this.socket) return;
    this.resetReason ??= reason;
    this.socket.destroy();
  }

  /**
   * Emit 'error' to listeners; with none, log a connection failure once per outage (`outage`), any other
   * error (rare: an error reply nobody waits for) once each.
   */
  protected report(error: Error, outage = false): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', error);
    } else if (!outage) {
      console.error(`redis ${describeEndpoint(this.endpoint)}: ${error.message}`);
    } else if (!this.inOutage) {
      console.error(`redis ${describeEndpoint(this.endpoint)}: ${error.message}; reconnecting (this is logged once per outage; listen for 'error' to see every failure)`);
    }
    if (outage) this.inOutage = true;
  }

  /** The subclass is ready to carry traffic (after the handshake, or a subscriber's resubscribe). */
  protected markReady(): void {
    this.ready = true;
    this.attempt = 0;
    this.inOutage = false;
    this.emit('ready');
  }

  private connect(): void {
    const { host, port } = this.endpoint;
    const socket = this.endpoint.tls
      ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined, ...this.options.tls })
      : net.connect({ host, port });
    this.socket = socket;
    this.parser = new ReplyParser(this.options.replyLimits);
    this.resetReason = undefined;
    this.connectTimer = setTimeout(() => {
      this.reset(new RedisConnectionError('CONNECT_FAILED', `connecting to ${describeEndpoint(this.endpoint)} took longer than ${this.settings.connectTimeoutMs} ms`));
    }, this.settings.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.once(this.endpoint.tls ? 'secureConnect' : 'connect', () => this.onConnected(socket));
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error) => {
      this.resetReason ??= error;
    });
    socket.once('close', () => this.onClosed(socket));
  }

  private onConnected(socket: net.Socket): void {
    const handshake: CommandArgument[][] = [];
    const { username, password, db } = this.endpoint;
    if (password !== undefined) handshake.push(username === undefined ? ['AUTH', password] : ['AUTH', username, password]);
    if (db !== 0) handshake.push(['SELECT', db]);
    if (this.options.name !== undefined) handshake.push(['CLIENT', 'SETNAME', this.options.name]);
    this.handshakeError = undefined;
    if (handshake.length === 0) {
      this.finishHandshake();
      return;
    }
    this.handshakeRemaining = handshake.length;
    socket.write(encodeCommands(handshake)[0]);
  }

  private finishHandshake(): void {
    clearTimeout(this.connectTimer);
    this.handshakeRemaining = -1;
    this.handshakeDone = true;
    this.onHandshakeDone();
    if (this.closing && this.socket) this.beginQuit();
  }

  private beginQuit(): void {
    if (this.quitSent) return; // quit() from a 'ready' listener, then finishHandshake() again
    this.quitSent = true;
    const socket = this.socket!;
    this.sendQuit();
    // A server that never closes after QUIT does not hold us forever.
    const timer = setTimeout(() => socket.destroy(), this.settings.commandTimeoutMs || 10_000);
    socket.once('close', () => clearTimeout(timer));
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    const replies = this.replies;
    let fault: Error | undefined;
    try {
      this.parser!.push(chunk, replies);
    } catch (error) {
      fault = error as Error; // the replies completed before the fault are still delivered
    }
    for (let index = 0; index < replies.length && this.socket === socket; index++) {
      const reply = replies[index];
      if (this.handshakeRemaining > 0) this.onHandshakeReply(reply);
      else this.onReply(reply);
    }
    replies.length = 0;
    if (fault && this.socket === socket) this.reset(fault);
  }

  private onHandshakeReply(reply: RedisReply): void {
    if (reply instanceof RedisReplyError) this.handshakeError ??= reply;
    if (--this.handshakeRemaining > 0) return;
    if (this.handshakeError) {
      const error = new RedisConnectionError('HANDSHAKE_FAILED', `${describeEndpoint(this.endpoint)} refused the connect handshake (AUTH/SELECT/CLIENT SETNAME): ${this.handshakeError.message}`, { cause: this.handshakeError });
      this.onHandshakeFailed(error);
      this.reset(error);
      return;
    }
    this.finishHandshake();
  }

  private onClosed(socket: net.Socket): void {
    if (this.socket !== socket) return;
    clearTimeout(this.connectTimer);
    const wasReady = this.ready;
    this.socket = undefined;
    this.parser = undefined;
    this.ready = false;
    this.handshakeDone = false;
    this.handshakeRemaining = -1;
    const reason = this.resetReason ?? new Error('the server closed the connection');
    const lost = new RedisConnectionError(
      wasReady ? 'CONNECTION_LOST' : 'CONNECT_FAILED',
      `${wasReady ? 'connection to' : 'could not connect to'} ${describeEndpoint(this.endpoint)} ${wasReady ? 'lost' : 'failed'}: ${reason.message}`,
      { cause: reason },
    );
    this.onConnectionLost(lost);
    if (this.closing) {
      this.finishClosing();
      return;
    }
    this.report(lost, true);
    this.scheduleReconnect(lost);
  }

  private scheduleReconnect(error: Error): void {
    this.attempt++;
    const ceiling = Math.min(this.settings.maxDelayMs, this.settings.initialDelayMs * 2 ** Math.min(this.attempt - 1, 30));
    // Jitter spreads the reconnects of many processes that lost the same server at the same moment.
    const delayMs = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.emit('reconnecting', { attempt: this.attempt, delayMs, error } satisfies ReconnectingInfo);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closing) this.connect();
    }, delayMs);
  }

  private finishClosing(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.onClosedForGood(new RedisConnectionError('CLOSED', `the Redis client for ${describeEndpoint(this.endpoint)} was closed`));
    this.emit('end');
    this.resolveClosed();
  }

  // Hooks of the subclass.

  /** AUTH/SELECT/SETNAME are done: start traffic and call markReady() when it may flow. */
  protected abstract onHandshakeDone(): void;
  /** A reply (or a push message) after the handshake. */
  protected abstract onReply(reply: RedisReply): void;
  /** The handshake was refused: commands waiting for this connection fail with `error`. */
  protected abstract onHandshakeFailed(error: RedisConnectionError): void;
  /** The socket is gone (a reconnect follows unless closing): what was in flight fails with `error`. */
  protected abstract onConnectionLost(error: RedisConnectionError): void;
  /** quit() on a ready connection: send QUIT after whatever is queued. */
  protected abstract sendQuit(): void;
  /** The client is closed for good: everything still waiting fails with `error`. */
  protected abstract onClosedForGood(error: RedisConnectionError): void;
}
