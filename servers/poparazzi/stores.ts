// Where Poparazzi keeps sessions and view counts, as the stream and the HTTP routes see it. SessionStore
// and ViewLedger (this process's memory) answer at once; the Redis forms (shared-redis.ts) answer later,
// for every process at once. Callers accept both.

import type { IssuedSession } from './sessions.ts';
import type { IgnoredReason } from './view-ledger.ts';

export type MaybePromise<T> = T | Promise<T>;

export interface Sessions {
  /** Create a session for `userId` (a UUID) or for a new random user. */
  issue(userId?: string): MaybePromise<IssuedSession>;
  /** The user of an Authorization value ("Bearer <token>"), or undefined. */
  authenticate(authorization: string): MaybePromise<string | undefined>;
}

export interface ViewCounter {
  /** Count `userId`'s views of `postIds`; for each, undefined when it counted or the reason it did not. */
  record(userId: string, postIds: readonly string[]): MaybePromise<(IgnoredReason | undefined)[]>;
  viewsOf(postId: string): MaybePromise<number>;
}

/** The same, answering at once: SessionStore and ViewLedger. */
export interface ImmediateSessions extends Sessions {
  issue(userId?: string): IssuedSession;
  authenticate(authorization: string): string | undefined;
}

export interface ImmediateViewCounter extends ViewCounter {
  record(userId: string, postIds: readonly string[]): (IgnoredReason | undefined)[];
  viewsOf(postId: string): number;
}

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return value instanceof Promise;
}
