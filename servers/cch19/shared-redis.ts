// Day 19 shared through Redis: rooms that span processes, and one view count for all of them.
//
// Tweets. Every tweet posted on a process is published on ONE channel for all rooms, as
// "<node id><room>\n<tweet>". Each process delivers what it receives to its own members of that room,
// framed once per process (BirdApp.deliver), and skips its own messages (it delivered them already).
// One channel rather than one per room: a room channel would be SUBSCRIBEd when its first local member
// joins, and a tweet published before Redis confirmed that subscription would be missed by a member whose
// WebSocket is already open. With one channel subscribed at start, a member is reachable the moment it
// joins. The price: every process reads every tweet, and drops at once those for rooms it has nobody in.
//
// Views. Each process counts the views it hands out (BirdApp.views) and writes that number, absolute, into
// the hash "d19:views" under its node id; the global count is the hash's sum. Written absolute (HSET, not
// INCRBY) because a write then never counts twice when it is retried, and a Redis that restarted empty is
// refilled by the next write of each process: views counted during an outage are added on reconnect.
// Writes are coalesced: at most one per turn of the event loop, one in flight at a time.
// Exact reads: GET /19/views first publishes a flush request; every process writes its count and
// acknowledges; PUBLISH's answer says how many acknowledgements to wait for. A view handed out anywhere
// before the read was asked for is therefore in the answer.
// Reset: a new random epoch replaces the old one and the hash is emptied, in one script; processes learn
// the epoch from a message or from their next write (a write tagged with an old epoch is refused), and
// start again from zero. Views handed out while a reset is on its way belong to the old epoch.

import { randomBytes } from 'node:crypto';
import { KEY_PREFIX, NODE_ID_LENGTH, type RedisLink } from '../shared/redis-link.ts';
import type { Day19Sharing, SharedBirdApp } from './sharing.ts';

const TWEETS_CHANNEL = `${KEY_PREFIX}d19:tweets`;
const FLUSH_CHANNEL = `${KEY_PREFIX}d19:flush`;
const FLUSHED_CHANNEL = `${KEY_PREFIX}d19:flushed`;
const RESET_CHANNEL = `${KEY_PREFIX}d19:reset`;
const EPOCH_KEY = `${KEY_PREFIX}d19:epoch`;
const VIEWS_KEY = `${KEY_PREFIX}d19:views`;

/** A process that does not acknowledge a flush in this long (busy, or dying) is read as it last wrote. */
const FLUSH_WAIT_MS = 1_000;
const NEWLINE = 0x0a;

// KEYS: epoch, views hash. ARGV: my epoch ('' before I know one), node id, my views, a fresh epoch.
// Returns the epoch in force; my count is written only under it (or when I knew none: a first write).
const WRITE_VIEWS = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1] ~= '' and ARGV[1] or ARGV[4]
  redis.call('SET', KEYS[1], epoch)
end
if ARGV[1] == '' or ARGV[1] == epoch then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
return epoch`;

// KEYS: epoch, views hash. ARGV: the new epoch.
const RESET_VIEWS = `
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

const newEpoch = (): string => randomBytes(8).toString('hex');

interface PendingFlush {
  expected: number;
  acknowledged: number;
  done: () => void;
}

export class RedisDay19Sharing implements Day19Sharing {
  readonly #link: RedisLink;
  readonly #writeViews;
  readonly #resetViews;
  readonly #flushes = new Map<string, PendingFlush>();
  #app: SharedBirdApp | undefined;
  #epoch = '';
  /** Views of the other processes at the last successful read: what an outage answer adds to our own. */
  #othersViews = 0;
  #writeScheduled = false;
  #queuedWrite: Promise<void> | undefined;
  #lastWrite: Promise<void> = Promise.resolve();

  private constructor(link: RedisLink) {
    this.#link = link;
    this.#writeViews = link.script(WRITE_VIEWS);
    this.#resetViews = link.script(RESET_VIEWS);
  }

  /** Subscribe to day 19's channels; resolves once subscribed (or at once while Redis is away: it resubscribes later). */
  static async create(link: RedisLink): Promise<RedisDay19Sharing> {
    const sharing = new RedisDay19Sharing(link);
    link.onReady(() => void sharing.flush());
    const subscriptions = Promise.all([
      link.subscribe(TWEETS_CHANNEL, (payload) => sharing.#relayed(payload)),
      link.subscribe(FLUSH_CHANNEL, (payload) => sharing.#flushRequested(payload.toString('latin1'))),
      link.subscribe(FLUSHED_CHANNEL, (payload) => sharing.#flushAcknowledged(payload.toString('latin1'))),
      link.subscribe(RESET_CHANNEL, (payload) => sharing.#adoptEpoch(payload.toString('latin1'))),
    ]);
    if (link.isReady) await subscriptions;
    else subscriptions.catch(() => {});
    return sharing;
  }

  attach(app: SharedBirdApp): void {
    this.#app = app;
  }

  tweetPosted(room: string, text: string): void {
    this.#link.publish(TWEETS_CHANNEL, `${this.#link.nodeId}${room}\n${text}`);
  }

  viewsAdded(): void {
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    setImmediate(() => {
      this.#writeScheduled = false;
      void this.flush();
    });
  }

  async views(): Promise<number> {
    const app = this.#requireApp();
    if (!this.#link.isReady) return this.#othersViews + app.views;
    try {
      await this.#flushEverywhere();
      const reply = await this.#link.commands.send(['HGETALL', VIEWS_KEY]);
      this.#othersViews = sumOthers(reply, this.#link.nodeId);
    } catch {
      // Redis went away during the read: answer with what this process knows.
    }
    return this.#othersViews + app.views;
  }

  async reset(): Promise<boolean> {
    const app = this.#requireApp();
    if (!this.#link.isReady) return false;
    const epoch = newEpoch();
    try {
      await this.#resetViews.run([EPOCH_KEY, VIEWS_KEY], [epoch]);
    } catch {
      return false;
    }
    this.#epoch = epoch;
    app.resetViews();
    this.#othersViews = 0;
    this.#link.publish(RESET_CHANNEL, epoch);
    return true;
  }

  /**
   * Write this process's count. Calls made while a write is in flight share one follow-up write, which
   * reads the count when it starts, so every view handed out before the call is in what it writes.
   */
  flush(): Promise<void> {
    if (this.#queuedWrite !== undefined) return this.#queuedWrite;
    const write = this.#lastWrite.then(() => {
      this.#queuedWrite = undefined;
      return this.#writeCount();
    });
    this.#queuedWrite = write;
    this.#lastWrite = write;
    return write;
  }

  async #writeCount(): Promise<void> {
    const app = this.#app;
    if (app === undefined || !this.#link.isReady) return;
    let epoch: string;
    try {
      const reply = await this.#writeViews.run([EPOCH_KEY, VIEWS_KEY], [this.#epoch, this.#link.nodeId, app.views, newEpoch()]);
      epoch = String(reply);
    } catch {
      return; // written again on the next view or reconnect
    }
    if (this.#epoch === '' || epoch === this.#epoch) {
      this.#epoch = epoch;
      return;
    }
    // Another process reset the count since our last write: our count belongs to the old epoch.
    this.#adoptEpoch(epoch);
  }

  #adoptEpoch(epoch: string): void {
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    this.#othersViews = 0;
    this.#app?.resetViews();
    void this.flush();
  }

  /** Ask every process (this one included) to write its count, and wait for their acknowledgements. */
  async #flushEverywhere(): Promise<void> {
    const id = randomBytes(8).toString('hex');
    let timer: NodeJS.Timeout | undefined;
    const acknowledged = new Promise<void>((resolve) => {
      this.#flushes.set(id, { expected: Infinity, acknowledged: 0, done: resolve });
      timer = setTimeout(resolve, FLUSH_WAIT_MS);
    });
    try {
      const receivers = await this.#link.publishCounted(FLUSH_CHANNEL, id);
      const pending = this.#flushes.get(id)!;
      pending.expected = receivers;
      if (pending.acknowledged >= receivers) pending.done();
      await acknowledged;
    } finally {
      clearTimeout(timer);
      this.#flushes.delete(id);
    }
  }

  #flushRequested(id: string): void {
    void this.flush().then(() => this.#link.publish(FLUSHED_CHANNEL, id));
  }

  #flushAcknowledged(id: string): void {
    const pending = this.#flushes.get(id);
    if (pending === undefined) return;
    pending.acknowledged += 1;
    if (pending.acknowledged >= pending.expected) pending.done();
  }

  /** Hot path under fan-out: the room is checked before the tweet is decoded or framed. */
  #relayed(payload: Buffer): void {
    const app = this.#app;
    if (app === undefined || payload.length <= NODE_ID_LENGTH) return;
    if (payload.toString('latin1', 0, NODE_ID_LENGTH) === this.#link.nodeId) return;
    const newline = payload.indexOf(NEWLINE, NODE_ID_LENGTH);
    if (newline === -1) return;
    const room = payload.toString('latin1', NODE_ID_LENGTH, newline);
    if (app.memberCount(room) === 0) return;
    app.deliver(room, payload.toString('utf8', newline + 1));
  }

  #requireApp(): SharedBirdApp {
    if (this.#app === undefined) throw new Error('RedisDay19Sharing: attach() was not called');
    return this.#app;
  }
}

/** The sum of the other processes' counts in an HGETALL reply ([field, value, field, value, …]). */
function sumOthers(reply: unknown, nodeId: string): number {
  if (!Array.isArray(reply)) return 0;
  let total = 0;
  for (let index = 0; index + 1 < reply.length; index += 2) {
    if (String(reply[index]) === nodeId) continue;
    const count = Number(String(reply[index + 1]));
    if (Number.isSafeInteger(count) && count > 0) total += count;
  }
  return total;
}
