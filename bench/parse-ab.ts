// Same-process A/B of the protocol core's parse loop between two checkouts of this repository:
//   node --import tsx bench/parse-ab.ts OLD_CHECKOUT NEW_CHECKOUT
// Feeds 8 MiB of masked 16 B and 100 B frames in 64 KiB chunks to each core, alternating 40 rounds, and
// prints messages/s and new/old. For comparing a change to the hot path on a busy machine, where two
// separate bench runs differ by more than the change. Understands both core APIs: the handler callbacks
// of the first version and the event queue (`nextEvent()`) that replaced them.

import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Core = { receive(chunk: Buffer): void; nextEvent?: () => { kind: number } | undefined };

const [oldCheckout, newCheckout] = process.argv.slice(2);
if (oldCheckout === undefined || newCheckout === undefined) {
  console.error('usage: node --import tsx bench/parse-ab.ts OLD_CHECKOUT NEW_CHECKOUT');
  process.exit(2);
}

async function loadCore(checkout: string): Promise<{ core: Core; take: () => number }> {
  const module = await import(pathToFileURL(resolve(checkout, 'lib/websocket/protocol.ts')).href);
  let messages = 0;
  const handler = { write() {}, onMessage() { messages++; }, onPing() {}, onPong() {}, onClose() {}, onError(error: Error) { throw error; } };
  const core = new module.WebSocketProtocol(handler, { role: 'server', maxMessageBytes: 1 << 26 }) as Core;
  const take = core.nextEvent === undefined
    ? () => { const counted = messages; messages = 0; return counted; }
    : () => 0;
  return { core, take };
}

function maskedFrame(payload: Buffer): Buffer {
  const key = randomBytes(4);
  const masked = Buffer.alloc(payload.length);
  for (let index = 0; index < payload.length; index++) masked[index] = payload[index]! ^ key[index % 4]!;
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), key, masked]);
}

const sides = { old: await loadCore(oldCheckout), new: await loadCore(newCheckout) };
for (const size of [16, 100]) {
  const frame = maskedFrame(Buffer.alloc(size, 0x61));
  const stream = Buffer.concat(Array(Math.floor((8 * 1024 * 1024) / frame.length)).fill(frame));
  const working = Buffer.allocUnsafe(stream.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < working.length; offset += 64 * 1024) chunks.push(working.subarray(offset, offset + 64 * 1024));
  const time = { old: 0, new: 0 };
  const count = { old: 0, new: 0 };
  for (let round = 0; round < 40; round++) {
    const order: Array<'old' | 'new'> = round % 2 === 0 ? ['new', 'old'] : ['old', 'new'];
    for (const side of order) {
      const { core, take } = sides[side];
      stream.copy(working); // the parser unmasks in place: fresh bytes every round
      const startedAt = performance.now();
      let messages = 0;
      for (const chunk of chunks) {
        core.receive(chunk);
        if (core.nextEvent !== undefined) for (let event = core.nextEvent(); event !== undefined; event = core.nextEvent()) if (event.kind === 0) messages++;
      }
      count[side] += messages + take();
      time[side] += performance.now() - startedAt;
    }
  }
  const rate = (side: 'old' | 'new'): number => (count[side] / time[side]) * 1000;
  console.log(`${size} B frames: old ${Math.round(rate('old')).toLocaleString('en')} msg/s, new ${Math.round(rate('new')).toLocaleString('en')} msg/s, new/old ${(rate('new') / rate('old')).toFixed(2)}`);
}
