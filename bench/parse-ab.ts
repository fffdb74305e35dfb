// Same-process A/B of the protocol core's parse loop between two checkouts of this repository:
//   node --import tsx bench/parse-ab.ts OLD_CHECKOUT NEW_CHECKOUT
// Feeds 8 MiB of masked 16 B and 100 B frames in 64 KiB chunks to each core, alternating 60 rounds (the
// first 10 warm up), and prints messages/s and new/old: the ratio of total times and the median of the
// per-round ratios. For comparing a change to the hot path on a busy machine, where two separate bench
// runs differ by more than the change. V8 compiles each process a little differently: run it a few times.

import { alternate, checkoutsFromArguments, importPerSide } from './ab-checkouts.ts';
import { maskedFrame, Opcode, repeated } from './wire.ts';

const checkouts = checkoutsFromArguments('parse-ab.ts');
const ROUNDS = 60;
const WARM_UP_ROUNDS = 10;
const drivers = await importPerSide<typeof import('./parse-ab-driver.ts')>('./parse-ab-driver.ts');
const parseLoops = { old: await drivers.old.loadParseLoop(checkouts.old), new: await drivers.new.loadParseLoop(checkouts.new) };

for (const size of [16, 100]) {
  const frame = maskedFrame(Opcode.Binary, Buffer.alloc(size, 0x61));
  const frameCount = Math.floor((8 * 1024 * 1024) / frame.length);
  const stream = repeated(frame, frameCount);
  const working = Buffer.allocUnsafe(stream.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < working.length; offset += 64 * 1024) chunks.push(working.subarray(offset, offset + 64 * 1024));
  const parseAll = (side: 'old' | 'new'): void => {
    // Two call sites, one per side: a shared one would let V8 inline one side's loop and not the other's.
    const messages = side === 'old' ? parseLoops.old(chunks) : parseLoops.new(chunks);
    if (messages !== frameCount) throw new Error(`${side}: ${messages} of ${frameCount} messages`);
  };
  // The parser unmasks in place: fresh bytes before every turn.
  const { time, medianRoundRatio } = await alternate(ROUNDS, WARM_UP_ROUNDS, parseAll, () => stream.copy(working));
  const measured = (ROUNDS - WARM_UP_ROUNDS) * frameCount;
  const rate = (side: 'old' | 'new'): number => (measured / time[side]) * 1000;
  console.log(`${size} B frames: old ${Math.round(rate('old')).toLocaleString('en')} msg/s, new ${Math.round(rate('new')).toLocaleString('en')} msg/s, new/old ${(time.old / time.new).toFixed(2)} (median round ${medianRoundRatio.toFixed(2)})`);
}
