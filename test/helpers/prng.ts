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

/**
 * Damage a stream one to four times: flip a bit, insert random bytes, delete a few, cut it short, or
 * apply `special(bytes, at)` — the damage that matters to one protocol (a wild length, say).
 */
export function mutate(random: Random, stream: Buffer, special: (bytes: Buffer, at: number) => Buffer): Buffer {
  let bytes: Buffer = Buffer.from(stream);
  const mutations = 1 + random(4);
  for (let step = 0; step < mutations && bytes.length > 0; step++) {
    const at = random(bytes.length);
    switch (random(5)) {
      case 0:
        bytes[at] ^= 1 << random(8);
        break;
      case 1:
        bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(random, 1 + random(8)), bytes.subarray(at)]);
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + random(8)))]);
        break;
      case 3:
        bytes = bytes.subarray(0, at);
        break;
      default:
        bytes = special(bytes, at);
    }
  }
  return bytes;
}
