// The command client: send() any command, get its reply as a promise. RESP2 "Pipelining": every command
// sent in one tick goes out in one write, and replies are matched to commands in order (the server
// answers in the order it received them — which is also why a command that times out forces a reset:
// the replies after it could no longer be matched).
//
// What happens to a command, by where it was when something went wrong:
// - waiting in the queue (not connected yet, or reconnecting): it stays queued, bounded by
//   maxQueuedCommands, and is sent once the connection is ready again — it runs exactly once;
// - in flight (written, no reply yet) when the connection drops: it fails with CONNECTION_LOST. It may
//   or may not have run on the server; only the caller knows whether it is safe to send it again;
// - no reply within commandTimeoutMs: it fails with TIMEOUT (if it was sent, it may have run);
// - refused by a full queue: QUEUE_FULL at once, never sent; after quit(): CLOSED, never sent.

import { checkArguments, encodeCommands, type CommandArgument } from './command-encoder.ts';
import { RedisConnection, type RedisOptions } from './connection.ts';
import { RedisConnectionError, RedisReplyError } from './errors.ts';
import { Fifo } from './fifo.ts';
import type { RedisReply } from './reply-parser.ts';

interface Command {
  args: ReadonlyArray<CommandArgument>;
  /** Date.now() after which it fails with TIMEOUT (Infinity when timeouts are off). */
  deadline: number;
  resolve(reply: RedisReply): void;
  reject(error: Error): void;
}

export class RedisClient extends RedisConnection {
  /** Commands not written yet: this tick's batch, or everything sent while not ready. */
  private readonly queued = new Fifo<Command>();
  /** Commands written, in order, waiting for their replies. */
  private readonly inFlight = new Fifo<Command>();
  private flushScheduled = false;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private readonly flushCallback = (): void => this.flush();

  /** Send one command; resolves with its reply, rejects with a RedisReplyError or a RedisConnectionError. */
  send(args: ReadonlyArray<CommandArgument>): Promise<RedisReply> {
    if (this.isClosing) return Promise.reject(new RedisConnectionError('CLOSED', `${String(args[0])} refused: the Redis client was closed`));
    try {
      checkArguments(args);
      refuseSubscriberCommands(args[0]);
    } catch (error) {
      return Promise.reject(error);
    }
    const waiting = this.queued.length + this.inFlight.length;
    if (waiting >= this.settings.maxQueuedCommands) {
      const state = this.isReady ? 'Redis is not keeping up' : 'Redis is not connected';
      return Promise.reject(new RedisConnectionError('QUEUE_FULL', `${String(args[0])} refused: ${waiting} commands already wait for Redis (maxQueuedCommands ${this.settings.maxQueuedCommands}) and ${state}`));
    }
    return new Promise((resolve, reject) => {
      const timeout = this.settings.commandTimeoutMs;
      this.queued.push({ args, deadline: timeout === 0 ? Infinity : Date.now() + timeout, resolve, reject });
      if (this.isReady && !this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flushCallback);
      }
      if (this.timeoutTimer === undefined && timeout !== 0) this.armTimeout();
    });
  }

  /** Write every queued command in one batch (one Buffer, save for large Buffer arguments). */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.isReady || this.queued.length === 0) return;
    const batch = this.queued.drain();
    const argsList = new Array<ReadonlyArray<CommandArgument>>(batch.length);
    for (let index = 0; index < batch.length; index++) {
      argsList[index] = batch[index].args;
      this.inFlight.push(batch[index]);
    }
    this.write(encodeCommands(argsList));
  }

  protected override onHandshakeDone(): void {
    this.markReady();
    this.flush();
  }

  protected override onReply(reply: RedisReply): void {
    const command = this.inFlight.shift();
    if (command === undefined) {
      this.reset(new Error('the server sent a reply to no command'));
      return;
    }
    if (reply instanceof RedisReplyError) command.reject(reply);
    else command.resolve(reply);
  }

  protected override onHandshakeFailed(error: RedisConnectionError): void {
    for (const command of this.queued.drain()) command.reject(error);
  }

  protected override onConnectionLost(error: RedisConnectionError): void {
    const lost = new RedisConnectionError('CONNECTION_LOST', `${error.message} (a command in flight may or may not have run)`, { cause: error.cause });
    for (const command of this.inFlight.drain()) command.reject(lost);
  }

  protected override sendQuit(): void {
    // Queued behind everything already sent, so those commands get their replies first.
    this.queued.push({ args: ['QUIT'], deadline: Infinity, resolve() {}, reject() {} });
    this.flush();
  }

  protected override onClosedForGood(error: RedisConnectionError): void {
    clearTimeout(this.timeoutTimer);
    this.timeoutTimer = undefined;
    for (const command of this.queued.drain()) command.reject(error);
    for (const command of this.inFlight.drain()) command.reject(error);
  }

  /**
   * One timer for all commands: replies come in order, so only the oldest queued and the oldest in-flight
   * command can be the next to expire. Cheaper than a timer per command in a pipeline of thousands.
   */
  private armTimeout(): void {
    const next = Math.min(this.queued.peek()?.deadline ?? Infinity, this.inFlight.peek()?.deadline ?? Infinity);
    if (next === Infinity) return;
    this.timeoutTimer = setTimeout(() => this.expire(), Math.max(0, next - Date.now()));
  }

  private expire(): void {
    this.timeoutTimer = undefined;
    const now = Date.now();
    const timeoutMs = this.settings.commandTimeoutMs;
    while ((this.queued.peek()?.deadline ?? Infinity) <= now) {
      const command = this.queued.shift()!;
      command.reject(new RedisConnectionError('TIMEOUT', `${String(command.args[0])} timed out after ${timeoutMs} ms waiting for a connection to Redis (never sent)`));
    }
    if ((this.inFlight.peek()?.deadline ?? Infinity) <= now) {
      // The replies of the commands behind it could no longer be matched: they fail now, and the connection is reset.
      const [late, ...behind] = this.inFlight.drain();
      const error = new RedisConnectionError('TIMEOUT', `${String(late.args[0])} got no reply within ${timeoutMs} ms (it may have run); the connection is reset`);
      late.reject(error);
      const lost = new RedisConnectionError('CONNECTION_LOST', `the connection was reset after ${String(late.args[0])} timed out (a command in flight may or may not have run)`, { cause: error });
      for (const command of behind) command.reject(lost);
      this.reset(error);
    }
    this.armTimeout();
  }
}

/** Commands that turn a connection into a push stream, whose replies no longer match commands one to one. */
const SUBSCRIBER_COMMANDS = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'MONITOR']);

function refuseSubscriberCommands(name: CommandArgument): void {
  if (typeof name !== 'string' || name.length < 7 || name.length > 10) return;
  const upper = name.toUpperCase();
  if (SUBSCRIBER_COMMANDS.has(upper)) {
    throw new TypeError(`${upper} cannot be sent on a command client: ${upper === 'MONITOR' ? 'it turns the connection into a stream' : 'use createRedisSubscriber()'}`);
  }
}

/** A command client for `url` (redis://[user:password@]host[:port][/db] or rediss://…); it connects at once. */
export function createRedisClient(url: string, options?: RedisOptions): RedisClient {
  return new RedisClient(url, options);
}
