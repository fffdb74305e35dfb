// The view ledger: total views per post, and the rule that keeps them honest.
// Rule: a user adds at most ONE view to a post per window (default one hour), whatever count the
// client reports, and at most `maxPostsPerUserPerWindow` posts per window. See the README (Poparazzi section).

import { systemClock, type Clock } from './clock.ts';

export interface ViewRules {
  /** After a user's view of a post is counted, further views of it by that user are ignored for this long. */
  windowMs: number;
  /** Distinct posts one user may add a view to within one window: a person can only look at so many. */
  maxPostsPerUserPerWindow: number;
  /** Posts with a count, all users together: bounds the memory and the data file. */
  maxTrackedPosts: number;
  /** Open (user, post) windows, all users together: bounds the memory the rule itself needs. */
  maxOpenWindows: number;
}

export const DEFAULT_VIEW_RULES: Readonly<ViewRules> = Object.freeze({
  windowMs: 60 * 60 * 1000,
  maxPostsPerUserPerWindow: 500,
  maxTrackedPosts: 1_000_000,
  maxOpenWindows: 2_000_000,
});

/** Why a reported view did not count. These strings go to the client as they are. */
export const IgnoredReason = {
  AlreadyCounted: 'already counted in this window',
  BudgetUsed: 'view budget for this window used up',
  ServerFull: 'server view capacity reached',
  /** Shared mode only: the shared counter (Redis) cannot be reached; nothing was counted. */
  Unavailable: 'view counting unavailable right now, report it again later',
} as const;
export type IgnoredReason = (typeof IgnoredReason)[keyof typeof IgnoredReason];

export class ViewLedger {
  readonly rules: ViewRules;
  readonly #views = new Map<string, number>();
  /** user id → (post id → when the user's window on that post ends). */
  readonly #windows = new Map<string, Map<string, number>>();
  #openWindows = 0;
  #changes = 0;

  constructor(rules: Partial<ViewRules> = {}, private readonly clock: Clock = systemClock) {
    this.rules = { ...DEFAULT_VIEW_RULES, ...rules };
  }

  /** Grows by one with every counted view: the data file is saved when it moved. */
  get changes(): number {
    return this.#changes;
  }

  get trackedPosts(): number {
    return this.#views.size;
  }

  viewsOf(postId: string): number {
    return this.#views.get(postId) ?? 0;
  }

  /**
   * Add `userId`'s views of `postIds` (normalised UUIDs, in the order reported). Returns, for each
   * post in the same order, undefined when the view counted or the reason it did not.
   */
  record(userId: string, postIds: readonly string[]): (IgnoredReason | undefined)[] {
    const now = this.clock();
    const windows = this.#openWindowsOf(userId, now);
    return postIds.map((postId) => {
      if (windows.has(postId)) return IgnoredReason.AlreadyCounted;
      if (windows.size >= this.rules.maxPostsPerUserPerWindow) return IgnoredReason.BudgetUsed;
      const current = this.#views.get(postId);
      if (this.#openWindows >= this.rules.maxOpenWindows) return IgnoredReason.ServerFull;
      if (current === undefined && this.#views.size >= this.rules.maxTrackedPosts) return IgnoredReason.ServerFull;
      windows.set(postId, now + this.rules.windowMs);
      this.#openWindows += 1;
      this.#views.set(postId, Math.min(Number.MAX_SAFE_INTEGER, (current ?? 0) + 1));
      this.#changes += 1;
      return undefined;
    });
  }

  /** Forget every window that has ended; the server calls this on a timer so idle users cost nothing. */
  prune(): void {
    const now = this.clock();
    for (const [userId, windows] of this.#windows) {
      this.#closeEndedWindows(windows, now);
      if (windows.size === 0) this.#windows.delete(userId);
    }
  }

  /** Every post's total, for the data file. */
  counts(): IterableIterator<[string, number]> {
    return this.#views.entries();
  }

  /** Start from saved totals (windows are not saved: see docs/challenges/poparazzi.md, "Persistence"). */
  load(counts: Iterable<[string, number]>): void {
    for (const [postId, views] of counts) this.#views.set(postId, views);
  }

  /** The user's windows that are still open at `now`, created empty on first use. */
  #openWindowsOf(userId: string, now: number): Map<string, number> {
    const windows = this.#windows.get(userId);
    if (windows === undefined) {
      const created = new Map<string, number>();
      this.#windows.set(userId, created);
      return created;
    }
    this.#closeEndedWindows(windows, now);
    return windows;
  }

  /** Windows are inserted in the order they end (insertion order of a Map), so the ended ones come first. */
  #closeEndedWindows(windows: Map<string, number>, now: number): void {
    for (const [postId, endsAt] of windows) {
      if (endsAt > now) return;
      windows.delete(postId);
      this.#openWindows -= 1;
    }
  }
}
