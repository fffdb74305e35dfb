// What a small compressed message costs on each zlib path: 1 KiB JSON messages compressed and inflated
// one after another through (a) our codec on the spot (MessageDeflater.deflateNow and
// MessageInflater.inflateMessage: the zlib stream's handle stepped synchronously, state kept; the path a
// small message takes when nothing waits before it), (b) our codec through the threadpool (deflate() and
// end(): the zlib stream's asynchronous API, the path for large or queued messages), (c) Node's public
// one-shot sync calls (deflateRawSync/inflateRawSync: a fresh zlib context per message, so no context
// takeover), (d) ws's PerMessageDeflate. Microseconds per message, best of runs.
//
//   node --import tsx bench/deflate-sync-vs-async.ts [--messages 20000]
//
// Numbers are noisy on a shared 2-core machine; compare within one run only.

import zlib from 'node:zlib';
import { MessageDeflater } from '../lib/websocket/permessage-deflate/deflater.ts';
import { MessageInflater } from '../lib/websocket/permessage-deflate/inflater.ts';
import { WsPerMessageDeflate } from '../test/helpers/ws-internals.ts';

const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
const messages = Array.from({ length: 64 }, (_, index) =>
  Buffer.from(JSON.stringify({ type: 'chat', room: 'general', user: `user${index}`, seq: index, text: `message ${index} `.repeat(60) }).slice(0, 1024)),
);

async function ours(count: number, noContextTakeover: boolean): Promise<number> {
  const deflater = new MessageDeflater({ windowBits: 15, noContextTakeover, level: 6, memLevel: 8 });
  const inflater = new MessageInflater({ windowBits: 15, noContextTakeover, maxMessageBytes: 1 << 20 }, () => {});
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const outcome = await deflater.deflate(messages[index % messages.length]);
    if (!outcome.ok) throw outcome.error;
    bytes += outcome.payload.length;
    inflater.write(outcome.payload);
    const result = await inflater.end();
    if (!result.ok) throw result.error;
  }
  deflater.release();
  inflater.release();
  return bytes;
}

async function oursOnTheSpot(count: number, noContextTakeover: boolean): Promise<number> {
  const deflater = new MessageDeflater({ windowBits: 15, noContextTakeover, level: 6, memLevel: 8 });
  const inflater = new MessageInflater({ windowBits: 15, noContextTakeover, maxMessageBytes: 1 << 20 }, () => {});
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const outcome = deflater.deflateNow(messages[index % messages.length]);
    if (outcome === undefined || !outcome.ok) throw new Error('not compressed on the spot');
    bytes += outcome.payload.length;
    const result = inflater.inflateMessage(outcome.payload);
    if (result instanceof Promise || !result.ok) throw new Error('not inflated on the spot');
  }
  deflater.release();
  inflater.release();
  return bytes;
}

async function oneShotSync(count: number): Promise<number> {
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const compressed = zlib.deflateRawSync(messages[index % messages.length], { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const payload = compressed.subarray(0, compressed.length - 4);
    bytes += payload.length;
    zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  }
  return bytes;
}

async function ws(count: number, noContextTakeover: boolean): Promise<number> {
  const pair = new WsPerMessageDeflate({ isServer: true });
  pair.accept([noContextTakeover ? { server_no_context_takeover: [true], client_no_context_takeover: [true] } : {}]);
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    const compressed = await new Promise<Buffer>((resolve, reject) =>
      pair.compress(messages[index % messages.length], true, (error, data) => (error ? reject(error) : resolve(data!))),
    );
    bytes += compressed.length;
    await new Promise<Buffer>((resolve, reject) => pair.decompress(compressed, true, (error, data) => (error ? reject(error) : resolve(data!))));
  }
  pair.cleanup();
  return bytes;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: node --import tsx bench/deflate-sync-vs-async.ts [--messages N]');
    return;
  }
  const at = args.indexOf('--messages');
  const count = at >= 0 ? Number(args[at + 1]) : 20_000;
  const cases: [string, () => Promise<number>][] = [
    ['ours on the spot, context takeover', () => oursOnTheSpot(count, false)],
    ['ours via threadpool, context takeover', () => ours(count, false)],
    ['ws, context takeover (async)', () => ws(count, false)],
    ['ours on the spot, no context takeover', () => oursOnTheSpot(count, true)],
    ['ours via threadpool, no context takeover', () => ours(count, true)],
    ['ws, no context takeover (async)', () => ws(count, true)],
    ['one-shot sync, no takeover possible', () => oneShotSync(count)],
  ];
  const best = new Map<string, { micros: number; ratio: number }>();
  for (let round = 0; round < 3; round++) {
    for (const [name, run] of round % 2 === 0 ? cases : [...cases].reverse()) {
      const started = process.hrtime.bigint();
      const bytes = await run();
      const micros = Number(process.hrtime.bigint() - started) / 1000 / count;
      const previous = best.get(name);
      if (previous === undefined || micros < previous.micros) best.set(name, { micros, ratio: bytes / (count * 1024) });
    }
  }
  console.log(`${count} messages of 1 KiB JSON, compress + inflate each, one at a time (best of 3)`);
  for (const [name] of cases) {
    const { micros, ratio } = best.get(name)!;
    console.log(`${name.padEnd(38)} ${micros.toFixed(1).padStart(7)} µs/message   compressed to ${(ratio * 100).toFixed(1)}%`);
  }
}

await main();
