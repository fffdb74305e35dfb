// Same-process A/B of the WebSocket adapter (connection.ts and everything under it) between two checkouts:
//   node --import tsx bench/adapter-ab.ts OLD_CHECKOUT NEW_CHECKOUT
// 100 echo connections per side on in-memory streams, each fed chunks of 16 masked 16 B (then 1 KiB)
// messages, the event loop turning between chunks so the echoes are written as on a socket; alternating
// rounds, the first ones warm-up. Prints the JavaScript cost per echoed message of each side and new/old.
// The echo rows of `npm run bench` add the system calls and the scheduling of a closed loop on a shared
// machine, which move them by more than a change to the adapter does; this measures the adapter alone.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const [oldCheckout, newCheckout] = process.argv.slice(2);
if (oldCheckout === undefined || newCheckout === undefined) {
  console.error('usage: node --import tsx bench/adapter-ab.ts OLD_CHECKOUT NEW_CHECKOUT');
  process.exit(2);
}
const ROUNDS = 40;
const WARM_UP_ROUNDS = 8;
const TURNS = 50;
const MESSAGES_PER_CHUNK = 16;
const CONNECTIONS = 100;

type Driver = typeof import('./adapter-ab-driver.ts');
const driverUrl = new URL('./adapter-ab-driver.ts', import.meta.url).href;
const { loadEchoConnections: loadOld } = (await import(`${driverUrl}?side=old`)) as Driver;
const { loadEchoConnections: loadNew } = (await import(`${driverUrl}?side=new`)) as Driver;
const sides = { old: await loadOld(oldCheckout), new: await loadNew(newCheckout) };

function maskedFrame(size: number): Buffer {
  const key = randomBytes(4);
  const header = size < 126 ? Buffer.from([0x82, 0x80 | size]) : Buffer.from([0x82, 0x80 | 126, size >> 8, size & 0xff]);
  const payload = Buffer.alloc(size, 0x61).map((byte, index) => byte ^ key[index % 4]!);
  return Buffer.concat([header, key, payload]);
}

for (const size of [16, 1024]) {
  const chunk = Buffer.concat(Array(MESSAGES_PER_CHUNK).fill(maskedFrame(size)));
  const time = { old: 0, new: 0 };
  const roundRatios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const roundTime = { old: 0, new: 0 };
    const order: Array<'old' | 'new'> = round % 2 === 0 ? ['new', 'old'] : ['old', 'new'];
    for (const side of order) {
      const startedAt = performance.now();
      const written = await sides[side](chunk, TURNS);
      roundTime[side] = performance.now() - startedAt;
      if (written < TURNS * CONNECTIONS * MESSAGES_PER_CHUNK * size) throw new Error(`${side}: the echoes did not all come back`);
      if (round >= WARM_UP_ROUNDS) time[side] += roundTime[side];
    }
    if (round >= WARM_UP_ROUNDS) roundRatios.push(roundTime.old / roundTime.new);
  }
  roundRatios.sort((a, b) => a - b);
  const messages = (ROUNDS - WARM_UP_ROUNDS) * TURNS * CONNECTIONS * MESSAGES_PER_CHUNK;
  const perMessage = (side: 'old' | 'new'): string => ((time[side] * 1000) / messages).toFixed(3);
  console.log(`${size} B echo: old ${perMessage('old')} µs/message, new ${perMessage('new')} µs/message, new/old speed ${(time.old / time.new).toFixed(2)} (median round ${roundRatios[roundRatios.length >> 1]!.toFixed(2)})`);
}
