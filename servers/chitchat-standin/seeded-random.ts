// Reproducible random numbers for the stand-in: `--seed` makes every run say the same thing.
// Each conversation draws from its own stream (seed, stream number), so concurrent conversations
// do not disturb one another's sequence. SHA-256 of a counter is slow next to a PRNG, but a
// conversation draws a few numbers a second and this needs no hand-written generator to trust.

import { createHash, randomBytes } from 'node:crypto';

export type RandomSource = () => number;

/** Uniform numbers in [0, 1) from stream `stream` of `seed`. */
export function seededRandom(seed: string, stream: number): RandomSource {
  let counter = 0;
  return () => {
    const digest = createHash('sha256').update(`${seed}\u0000${stream}\u0000${counter++}`).digest();
    return digest.readUInt32BE(0) / 2 ** 32;
  };
}

/** A fresh seed for runs that did not ask for one. */
export function randomSeed(): string {
  return randomBytes(8).toString('hex');
}

/** `length` lower-case hex digits drawn from `random`. */
export function randomHex(random: RandomSource, length: number): string {
  let hex = '';
  while (hex.length < length) hex += Math.floor(random() * 16).toString(16);
  return hex;
}

/** One item of `choices`, uniformly. */
export function pick<T>(random: RandomSource, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)]!;
}
