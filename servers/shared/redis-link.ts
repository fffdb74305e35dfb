// The shared mode's one link to Redis, used by every shared service of a process (day 19, BATCHAT,
// Poparazzi): a command connection, a subscriber connection (a connection in SUBSCRIBE mode can run
// nothing else), a node id that marks what this process publishes so it can ignore its own messages
// (the Socket.IO Redis adapter's trick), Lua scripts run by SHA, and one log line per outage.
//
// While Redis is unreachable the link says so (`isReady` false) and the services serve this process
// alone: publishes are dropped rather than queued (pub/sub is at-most-once anyway, and a tweet delivered
// a minute late is worse than none), and each service puts its state back once `onReady` fires.

import { createHash, randomBytes } from 'node:crypto';
import {
  createRedisClient,
  createRedisSubscriber,
  RedisReplyError,
  type RedisClient,
  type RedisOptions,
  type RedisReply,
  type RedisSubscriber,
} from '../../lib/redis/index.ts';

/** Every key and channel of the project starts with this, so one Redis can hold other data beside it. */
export const KEY_PREFIX = 'handrolled:';

/** Bytes of a node id as published: 16 hex digits, first in every relayed message. */
export const NODE_ID_LENGTH = 16;

/** Reconnect quickly: the issue wants cross-process delivery back within 5 s of Redis returning. */
const CONNECTION_OPTIONS: RedisOptions = {
  commandTimeoutMs: 5_000,
  connectTimeoutMs: 2_000,
  maxQueuedCommands: 10_000,
  reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
};

export interface RedisLinkOptions {
  /** One line per outage and per recovery. Default: stderr. */
  log?: (line: string) => void;
  /** Shown in CLIENT LIST, to tell the processes apart. */
  name?: string;
}

/** The URL as it may be printed: without the password. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

export class RedisLink {
  /** This process, in everything it publishes. Random per start: a restarted process is a new node. */
  readonly nodeId = randomBytes(NODE_ID_LENGTH / 2).toString('hex');
  readonly commands: RedisClient;
  readonly url: string;
  readonly #subscriber: RedisSubscriber;
  readonly #channels = new Map<string, (payload: Buffer) => void>();
  readonly #readyHandlers: (() => void)[] = [];
  readonly #scripts: RedisScript[] = [];
  readonly #log: (line: string) => void;
  #lost = false;
  #closing = false;

  constructor(url: string, options: RedisLinkOptions = {}) {
    this.url = redactRedisUrl(url);
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    const connectionOptions: RedisOptions = { ...CONNECTION_OPTIONS, name: options.name };
    this.commands = createRedisClient(url, connectionOptions);
    this.#subscriber = createRedisSubscriber(url, connectionOptions);
    this.commands.on('ready', () => this.#recovered());
    this.commands.on('reconnecting', () => this.#lose('connection lost'));
    this.commands.on('error', (error: Error) => this.#lose(error.message));
    // The outage is judged on the command connection alone, so it is logged once, not once per connection.
    this.#subscriber.on('error', () => {});
    this.#subscriber.on('message', (channel: string, payload: Buffer) => this.#channels.get(channel)?.(payload));
  }

  /** Commands can be sent now. */
  get isReady(): boolean {
    return this.commands.isReady;
  }

  /** Wait for the first connection; false if Redis did not answer within `timeoutMs` (the process then starts alone). */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.commands.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.commands.once('ready', onReady);
    });
  }

  /** Run `handler` after every (re)connection of the command connection: where a service puts its state back. */
  onReady(handler: () => void): void {
    this.#readyHandlers.push(handler);
  }

  /** Receive `channel`'s messages (the subscriber resubscribes by itself after a reconnect). One handler per channel. */
  async subscribe(channel: string, handler: (payload: Buffer) => void): Promise<void> {
    this.#channels.set(channel, handler);
    await this.#subscriber.subscribe(channel);
  }

  /** Publish when connected; dropped otherwise (see the file comment). Never throws. */
  publish(channel: string, payload: string | Buffer): void {
    if (!this.isReady) return;
    this.commands.send(['PUBLISH', channel, payload]).catch(() => {});
  }

  /** Publish and learn how many subscribers received it; rejects when Redis is unreachable. */
  async publishCounted(channel: string, payload: string | Buffer): Promise<number> {
    return Number(await this.commands.send(['PUBLISH', channel, payload]));
  }

  /**
   * A script loaded on every (re)connection before anything else is sent, so its first EVALSHA does not
   * cost a NOSCRIPT round trip (which would let a later command from another process overtake it).
   */
  script(source: string): RedisScript {
    const script = new RedisScript(this.commands, source);
    this.#scripts.push(script);
    if (this.isReady) script.load();
    return script;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([this.commands.quit(), this.#subscriber.quit()]);
  }

  #lose(reason: string): void {
    if (this.#lost || this.#closing) return;
    this.#lost = true;
    this.#log(`redis: ${this.url} unreachable (${reason}); serving this process alone and reconnecting`);
  }

  #recovered(): void {
    if (this.#lost) this.#log(`redis: ${this.url} reachable again; sharing resumed`);
    this.#lost = false;
    for (const script of this.#scripts) script.load();
    for (const handler of this.#readyHandlers) handler();
  }
}

/**
 * A Lua script run with EVALSHA, falling back to EVAL when Redis does not know it (first use, or a
 * restarted Redis): the script's text crosses the network once per Redis start, not on every call.
 */
export class RedisScript {
  readonly #client: RedisClient;
  readonly #source: string;
  readonly #sha: string;

  constructor(client: RedisClient, source: string) {
    this.#client = client;
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  /** SCRIPT LOAD, pipelined: commands sent after it find the script. Failures are left to run()'s fallback. */
  load(): void {
    this.#client.send(['SCRIPT', 'LOAD', this.#source]).catch(() => {});
  }

  async run(keys: readonly string[], args: ReadonlyArray<string | number | Buffer>): Promise<RedisReply> {
    try {
      return await this.#client.send(['EVALSHA', this.#sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!(error instanceof RedisReplyError) || error.prefix !== 'NOSCRIPT') throw error;
      return this.#client.send(['EVAL', this.#source, keys.length, ...keys, ...args]);
    }
  }
}
