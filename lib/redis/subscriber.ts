// The subscriber connection: RESP2 pub/sub (https://redis.io/docs/interact/pubsub/). A connection in
// subscribed state receives pushes — ['message', channel, payload], ['pmessage', pattern, channel,
// payload] — and one confirmation per channel or pattern of each (P)(UN)SUBSCRIBE, in order; it can
// send nothing but those commands, PING and QUIT, hence a connection of its own.
//
// The subscriber remembers what it is subscribed to and subscribes again after every reconnect before
// it says 'ready'. Pub/sub is at-most-once: messages published while the connection is down are lost.

import { encodeCommands } from './command-encoder.ts';
import { RedisConnection, type RedisOptions } from './connection.ts';
import { RedisConnectionError, RedisReplyError } from './errors.ts';
import { Fifo } from './fifo.ts';
import type { RedisReply } from './reply-parser.ts';

type Kind = 'subscribe' | 'unsubscribe' | 'psubscribe' | 'punsubscribe';

/** A (P)(UN)SUBSCRIBE sent and waiting for one confirmation per name. */
interface PendingConfirmation {
  kind: Kind;
  remaining: number;
  deadline: number;
  /** Call when confirmed (or, for a subscribe, also when the next resubscribe confirms it). */
  waiter: Waiter | undefined;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  /** The resubscribe after a connect, not a caller: dropped (not carried over) when the connection is lost. */
  internal?: boolean;
}

export class RedisSubscriber extends RedisConnection {
  private readonly channels = new Set<string>();
  private readonly patterns = new Set<string>();
  private readonly pending = new Fifo<PendingConfirmation>();
  /** subscribe() calls made while not ready: they resolve at the next 'ready'. */
  private readyWaiters: Waiter[] = [];
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** Connected and resubscribing: changes can be sent, though 'ready' has not been said yet. */
  private resubscribing = false;

  subscribe(...channels: string[]): Promise<void> {
    return this.change('subscribe', channels, this.channels);
  }

  unsubscribe(...channels: string[]): Promise<void> {
    return this.change('unsubscribe', channels.length > 0 ? channels : [...this.channels], this.channels);
  }

  psubscribe(...patterns: string[]): Promise<void> {
    return this.change('psubscribe', patterns, this.patterns);
  }

  punsubscribe(...patterns: string[]): Promise<void> {
    return this.change('punsubscribe', patterns.length > 0 ? patterns : [...this.patterns], this.patterns);
  }

  /** Channels currently wanted (subscribed, or to be subscribed on the next connect). */
  get subscribedChannels(): ReadonlySet<string> {
    return this.channels;
  }

  get subscribedPatterns(): ReadonlySet<string> {
    return this.patterns;
  }

  private change(kind: Kind, names: string[], wanted: Set<string>): Promise<void> {
    if (this.isClosing) return Promise.reject(new RedisConnectionError('CLOSED', `${kind} refused: the Redis subscriber was closed`));
    for (const name of names) {
      if (typeof name !== 'string') return Promise.reject(new TypeError(`${kind} takes channel or pattern names as strings, not ${typeof name}`));
    }
    if (names.length === 0) return Promise.resolve();
    const adding = kind === 'subscribe' || kind === 'psubscribe';
    if (this.pending.length + this.readyWaiters.length >= this.settings.maxQueuedCommands) {
      return Promise.reject(new RedisConnectionError('QUEUE_FULL', `${kind} refused: ${this.settings.maxQueuedCommands} subscription changes already wait for Redis`));
    }
    for (const name of names) {
      if (adding) wanted.add(name);
      else wanted.delete(name);
    }
    if (!this.isReady && !this.resubscribing) {
      // Unsubscribing needs nothing while down (the server forgot us); a subscribe happens on connect.
      if (!adding) return Promise.resolve();
      return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    }
    return new Promise((resolve, reject) => {
      this.sendChange(kind, names, { resolve, reject });
    });
  }

  private sendChange(kind: Kind, names: string[], waiter: Waiter | undefined): void {
    const timeout = this.settings.commandTimeoutMs;
    this.pending.push({ kind, remaining: names.length, deadline: timeout === 0 ? Infinity : Date.now() + timeout, waiter });
    this.write(encodeCommands([[kind.toUpperCase(), ...names]]));
    if (this.timeoutTimer === undefined && timeout !== 0) this.armTimeout();
  }

  protected override onHandshakeDone(): void {
    if (this.channels.size === 0 && this.patterns.size === 0) {
      this.becomeReady();
      return;
    }
    // Resubscribe to everything before saying 'ready'; the last confirmation makes us ready.
    this.resubscribing = true;
    const becomeReady: Waiter = { resolve: () => this.becomeReady(), reject() {}, internal: true };
    const hasPatterns = this.patterns.size > 0;
    if (this.channels.size > 0) this.sendChange('subscribe', [...this.channels], hasPatterns ? undefined : becomeReady);
    if (hasPatterns) this.sendChange('psubscribe', [...this.patterns], becomeReady);
  }

  private becomeReady(): void {
    this.resubscribing = false;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    this.markReady();
    for (const waiter of waiters) waiter.resolve();
  }

  protected override onReply(reply: RedisReply): void {
    if (Array.isArray(reply) && Buffer.isBuffer(reply[0])) {
      const kind = reply[0].toString('latin1');
      if (kind === 'message' && reply.length === 3) {
        this.emit('message', String(reply[1]), reply[2] as Buffer);
        return;
      }
      if (kind === 'pmessage' && reply.length === 4) {
        this.emit('pmessage', String(reply[1]), String(reply[2]), reply[3] as Buffer);
        return;
      }
      if (kind === 'subscribe' || kind === 'unsubscribe' || kind === 'psubscribe' || kind === 'punsubscribe') {
        this.confirm(kind);
        return;
      }
      if (kind === 'pong') return;
    }
    if (reply === 'OK') return; // QUIT
    if (reply instanceof RedisReplyError) {
      const head = this.pending.shift();
      if (head?.waiter) head.waiter.reject(reply);
      else this.report(reply);
      return;
    }
    this.reset(new Error(`unexpected reply on a subscriber connection: ${JSON.stringify(String(reply))}`));
  }

  private confirm(kind: Kind): void {
    const head = this.pending.peek();
    if (head === undefined || head.kind !== kind) {
      // An unsubscribe with no name left (Redis sends one confirmation with a null channel) or a stray one.
      if (head === undefined) return;
      this.reset(new Error(`expected a ${head.kind} confirmation, got ${kind}`));
      return;
    }
    if (--head.remaining > 0) return;
    this.pending.shift();
    head.waiter?.resolve();
  }

  protected override onHandshakeFailed(error: RedisConnectionError): void {
    for (const waiter of this.readyWaiters) waiter.reject(error);
    this.readyWaiters = [];
  }

  protected override onConnectionLost(): void {
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    this.resubscribing = false;
    // Subscriptions in progress complete with the resubscribe on reconnect; unsubscriptions are moot.
    for (const confirmation of this.pending.drain()) {
      if (!confirmation.waiter || confirmation.waiter.internal) continue;
      if (confirmation.kind === 'subscribe' || confirmation.kind === 'psubscribe') this.readyWaiters.push(confirmation.waiter);
      else confirmation.waiter.resolve();
    }
  }

  protected override sendQuit(): void {
    this.write(encodeCommands([['QUIT']]));
  }

  protected override onClosedForGood(error: RedisConnectionError): void {
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    for (const confirmation of this.pending.drain()) confirmation.waiter?.reject(error);
    for (const waiter of this.readyWaiters) waiter.reject(error);
    this.readyWaiters = [];
    this.channels.clear();
    this.patterns.clear();
  }

  /** A confirmation that does not come within commandTimeoutMs resets the connection (one timer, as in client.ts). */
  private armTimeout(): void {
    const next = this.pending.peek()?.deadline ?? Infinity;
    if (next === Infinity) return;
    this.timeoutTimer = setTimeout(() => {
      this.timeoutTimer = undefined;
      if ((this.pending.peek()?.deadline ?? Infinity) <= Date.now()) {
        this.reset(new RedisConnectionError('TIMEOUT', `no subscription confirmation within ${this.settings.commandTimeoutMs} ms; the connection is reset`));
      } else {
        this.armTimeout();
      }
    }, Math.max(0, next - Date.now()));
  }
}

/** A pub/sub connection for `url`; it connects at once and resubscribes after every reconnect. */
export function createRedisSubscriber(url: string, options?: RedisOptions): RedisSubscriber {
  return new RedisSubscriber(url, options);
}
