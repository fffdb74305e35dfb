// Day 19, task 2: the bird app's rooms, membership and view counter (no socket in here).
// A tweet goes to every member of its room, sender included, in the order tweets arrive; every
// copy handed to a member's socket is one view, read or not.

import { formatTweet, readTweetMessage } from './tweets.ts';

/** One user in one room, as the socket side presents it. */
export interface RoomMember<Frame> {
  /** Hand one framed tweet to the member's socket without waiting for the peer. False when the member can no longer receive (closing or closed). */
  deliver(frame: Frame): boolean;
}

/**
 * What a shared mode (servers/cch19/shared-redis.ts) listens to. Without hooks the app is the plain
 * one-process service: nothing else is called on the hot path.
 */
export interface BirdAppHooks {
  /** A valid tweet was posted on this process (and handed to its local members): pass it on to the other processes. */
  tweetPosted?(room: string, text: string): void;
  /** Views were added (local or relayed tweets handed to members). */
  viewsAdded?(added: number): void;
}

export interface PostedTweet {
  /** The tweet as sent to the room. */
  text: string;
  /** How many members it was handed to: the views it added. */
  views: number;
}

/**
 * `Frame` is whatever the socket side writes: a PreparedMessage in the server (framed once per tweet,
 * shared by every member), a plain string in tests.
 */
export class BirdApp<Frame> {
  readonly #rooms = new Map<string, Set<RoomMember<Frame>>>();
  readonly #frameTweet: (text: string) => Frame;
  // Kept as two fields (undefined without a shared mode) so the hot path tests a field, not a property of an object.
  readonly #tweetPosted: BirdAppHooks['tweetPosted'];
  readonly #viewsAdded: BirdAppHooks['viewsAdded'];
  #views = 0;

  constructor(frameTweet: (text: string) => Frame, hooks: BirdAppHooks = {}) {
    this.#frameTweet = frameTweet;
    this.#tweetPosted = hooks.tweetPosted?.bind(hooks);
    this.#viewsAdded = hooks.viewsAdded?.bind(hooks);
  }

  /** Tweet copies handed to members since start or the last reset. */
  get views(): number {
    return this.#views;
  }

  resetViews(): void {
    this.#views = 0;
  }

  /** Rooms with at least one member. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  memberCount(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  /** No history: a newcomer sees only tweets posted after joining. */
  join(room: string, member: RoomMember<Frame>): void {
    let members = this.#rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.#rooms.set(room, members);
    }
    members.add(member);
  }

  leave(room: string, member: RoomMember<Frame>): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    members.delete(member);
    // Empty rooms are forgotten, so a scan of room numbers leaves nothing behind.
    if (members.size === 0) this.#rooms.delete(room);
  }

  /**
   * Handle one incoming message from `author` in `room`: a valid tweet is framed once and handed to
   * every member. Returns undefined for anything that is not a valid tweet (it is ignored, silently).
   */
  receive(room: string, author: string, data: Buffer | string, isBinary: boolean): PostedTweet | undefined {
    const message = readTweetMessage(data, isBinary);
    if (message === undefined) return undefined;
    const text = formatTweet(author, message);
    const views = this.deliver(room, text);
    if (this.#tweetPosted !== undefined) this.#tweetPosted(room, text);
    return { text, views };
  }

  /**
   * Hand an already formatted tweet to every member of `room` on this process, framed once; returns the
   * views it added. receive() uses it for tweets posted here, a shared mode for tweets relayed from elsewhere.
   */
  deliver(room: string, text: string): number {
    const members = this.#rooms.get(room);
    if (members === undefined) return 0;
    const frame = this.#frameTweet(text);
    let views = 0;
    for (const member of members) {
      if (member.deliver(frame)) views++;
    }
    this.#views += views;
    if (views > 0 && this.#viewsAdded !== undefined) this.#viewsAdded(views);
    return views;
  }
}
