// Same-process A/B of the WebSocket adapter (connection.ts and everything under it) between two checkouts:
//   node --import tsx bench/adapter-ab.ts OLD_CHECKOUT NEW_CHECKOUT
// 100 echo connections per side on in-memory streams, each fed chunks of 16 masked 16 B (then 1 KiB)
// messages, the event loop turning between chunks so the echoes are written as on a socket; then the
// 1 KiB chunks again in reads of 1,500 bytes, so most messages arrive split in two, as under load.
// Alternating rounds, the first ones warm-up. Prints the JavaScript cost per echoed message of each side and new/old.
// The echo rows of `npm run bench` add the system calls and the scheduling of a closed loop on a shared
// machine, which move them by more than a change to the adapter does; this measures the adapter alone.

import { alternate, checkoutsFromArguments, importPerSide } from './ab-checkouts.ts';
import { maskedFrame, Opcode, repeated } from './wire.ts';

const checkouts = checkoutsFromArguments('adapter-ab.ts');
const ROUNDS = 40;
const WARM_UP_ROUNDS = 8;
const TURNS = 50;
const MESSAGES_PER_CHUNK = 16;
const CONNECTIONS = 100;
const drivers = await importPerSide<typeof import('./adapter-ab-driver.ts')>('./adapter-ab-driver.ts');
const echoes = { old: await drivers.old.loadEchoConnections(checkouts.old, CONNECTIONS), new: await drivers.new.loadEchoConnections(checkouts.new, CONNECTIONS) };

for (const [size, readBytes] of [[16, 0], [1024, 0], [1024, 1500]] as const) {
  const chunk = repeated(maskedFrame(Opcode.Binary, Buffer.alloc(size, 0x61)), MESSAGES_PER_CHUNK);
  const { time, medianRoundRatio } = await alternate(ROUNDS, WARM_UP_ROUNDS, async (side) => {
    // Two call sites, one per side: a shared one would let V8 inline one side's code and not the other's.
    const written = side === 'old' ? await echoes.old(chunk, TURNS, readBytes) : await echoes.new(chunk, TURNS, readBytes);
    if (written < TURNS * CONNECTIONS * MESSAGES_PER_CHUNK * size) throw new Error(`${side}: the echoes did not all come back`);
  });
  const messages = (ROUNDS - WARM_UP_ROUNDS) * TURNS * CONNECTIONS * MESSAGES_PER_CHUNK;
  const perMessage = (side: 'old' | 'new'): string => ((time[side] * 1000) / messages).toFixed(3);
  console.log(`${size} B echo${readBytes > 0 ? ` in ${readBytes}-byte reads` : ''}: old ${perMessage('old')} µs/message, new ${perMessage('new')} µs/message, new/old speed ${(time.old / time.new).toFixed(2)} (median round ${medianRoundRatio.toFixed(2)})`);
}
