// Exponential backoff with jitter for reconnection attempts: the delay doubles with each consecutive
// failure up to a ceiling, and a random half of it is shaved off so that many teams dropped at the same
// moment do not all come back in the same millisecond ("equal jitter").

export interface BackoffPolicy {
  /** Delay after the first failure (before jitter). */
  baseMs: number;
  /** Ceiling of the delay, however many failures. */
  maxMs: number;
}

/** `failures` counts from 1; `random` returns a number in [0, 1). The result is in [ceiling/2, ceiling). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
