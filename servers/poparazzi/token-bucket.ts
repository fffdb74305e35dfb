// A token bucket: the per-connection message rate limit of the Poparazzi stream.
// `capacity` messages may arrive in a burst; after that, `refillPerSecond` messages a second.

import { systemClock, type Clock } from './clock.ts';

export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.#tokens = capacity;
    this.#updatedAt = clock();
  }

  /** Take one token; false when the bucket is empty (the caller refuses the work). */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = this.clock();
    // A clock that steps backwards must not mint tokens, so only forward time counts.
    const elapsedMs = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = now;
    this.#tokens = Math.min(this.capacity, this.#tokens + (elapsedMs * this.refillPerSecond) / 1000);
  }
}
