// Same-process A/B of the protocol core's parse loop between two checkouts of this repository:
//   node --import tsx bench/parse-ab.ts OLD_CHECKOUT NEW_CHECKOUT
// Feeds 8 MiB of masked 16 B and 100 B frames in 64 KiB chunks to each core, alternating 60 rounds (the
// first 10 warm up), and prints messages/s and new/old: the ratio of total times and the median of the
// per-round ratios. For comparing a change to the hot path on a busy machine, where two separate bench
// runs differ by more than the change. Each core gets its own copy of the loop (parse-ab-driver.ts says
// why). V8 compiles each process a little differently: run it a few times.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const [oldCheckout, newCheckout] = process.argv.slice(2);
if (oldCheckout === undefined || newCheckout === undefined) {
  console.error('usage: node --import tsx bench/parse-ab.ts OLD_CHECKOUT NEW_CHECKOUT');
  process.exit(2);
}
const ROUNDS = 60;
const WARM_UP_ROUNDS = 10;

// One module instance per side: the query makes the second import a separate copy of the driver.
type Driver = typeof import('./parse-ab-driver.ts');
const driverUrl = new URL('./parse-ab-driver.ts', import.meta.url).href;
const { loadParseLoop: loadOld } = (await import(`${driverUrl}?side=old`)) as Driver;
const { loadParseLoop: loadNew } = (await import(`${driverUrl}?side=new`)) as Driver;
const sides = { old: await loadOld(oldCheckout), new: await loadNew(newCheckout) };

function maskedFrame(payload: Buffer): Buffer {
  const key = randomBytes(4);
  const masked = Buffer.alloc(payload.length);
  for (let index = 0; index < payload.length; index++) masked[index] = payload[index]! ^ key[index % 4]!;
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), key, masked]);
}

for (const size of [16, 100]) {
  const frame = maskedFrame(Buffer.alloc(size, 0x61));
  const stream = Buffer.concat(Array(Math.floor((8 * 1024 * 1024) / frame.length)).fill(frame));
  const working = Buffer.allocUnsafe(stream.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < working.length; offset += 64 * 1024) chunks.push(working.subarray(offset, offset + 64 * 1024));
  const time = { old: 0, new: 0 };
  const count = { old: 0, new: 0 };
  const roundRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const roundTime = { old: 0, new: 0 };
    const order: Array<'old' | 'new'> = round % 2 === 0 ? ['new', 'old'] : ['old', 'new'];
    for (const side of order) {
      stream.copy(working); // the parser unmasks in place: fresh bytes every round
      const startedAt = performance.now();
      const messages = sides[side](chunks);
      roundTime[side] = performance.now() - startedAt;
      if (round < WARM_UP_ROUNDS) continue;
      count[side] += messages;
      time[side] += roundTime[side];
    }
    if (round >= WARM_UP_ROUNDS) roundRatios.push(roundTime.old / roundTime.new);
  }
  roundRatios.sort((a, b) => a - b);
  const rate = (side: 'old' | 'new'): number => (count[side] / time[side]) * 1000;
  const median = roundRatios[roundRatios.length >> 1]!;
  console.log(`${size} B frames: old ${Math.round(rate('old')).toLocaleString('en')} msg/s, new ${Math.round(rate('new')).toLocaleString('en')} msg/s, new/old ${(rate('new') / rate('old')).toFixed(2)} (median round ${median.toFixed(2)})`);
}
