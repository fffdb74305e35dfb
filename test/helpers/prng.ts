// A seeded pseudo-random generator for the fuzz tests: the same sequence on every run for a given seed,
// so a failure reproduces.

/** mulberry32: small, fast; returns an integer in [0, limit). */
export function prng(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return (((value ^ (value >>> 14)) >>> 0) / 4294967296) * limit | 0;
  };
}

export type Random = ReturnType<typeof prng>;

export function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) bytes[index] = random(256);
  return bytes;
}
