// Memory held per idle permessage-deflate connection: one compressor + one decompressor, ours beside
// ws's PerMessageDeflate, each scenario in a fresh child process (with --expose-gc) so they cannot
// disturb one another. "after traffic" means one 1 KiB JSON message compressed and inflated, then idle.
//
//   node --import tsx bench/deflate-memory.ts [--pairs 1000]
//
// Also run by `npm run bench -- --only deflate`, one child per scenario (bench/sections/deflate.ts).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageDeflater } from '../lib/websocket/permessage-deflate/deflater.ts';
import { MessageInflater } from '../lib/websocket/permessage-deflate/inflater.ts';
import { WsPerMessageDeflate } from '../test/helpers/ws-internals.ts';

const SCENARIOS = ['ours-unused', 'ours-takeover', 'ours-no-takeover', 'ws-unused', 'ws-takeover', 'ws-no-takeover'] as const;
type Scenario = (typeof SCENARIOS)[number];

const MESSAGE = Buffer.from(JSON.stringify({ type: 'chat', room: 'general', user: 'someone', text: 'hello there '.repeat(80) }));

async function ourPair(scenario: Scenario): Promise<unknown> {
  const noContextTakeover = scenario === 'ours-no-takeover';
  const deflater = new MessageDeflater({ windowBits: 15, noContextTakeover, level: 6, memLevel: 8 });
  const inflater = new MessageInflater({ windowBits: 15, noContextTakeover, maxMessageBytes: 1 << 24 }, () => {});
  if (scenario !== 'ours-unused') {
    const outcome = await deflater.deflate(MESSAGE);
    if (!outcome.ok) throw outcome.error;
    inflater.write(outcome.payload);
    const result = await inflater.end();
    if (!result.ok) throw result.error;
  }
  return [deflater, inflater];
}

async function wsPair(scenario: Scenario): Promise<unknown> {
  const noContextTakeover = scenario === 'ws-no-takeover';
  const pair = new WsPerMessageDeflate({ isServer: true });
  pair.accept([noContextTakeover ? { server_no_context_takeover: [true], client_no_context_takeover: [true] } : {}]);
  if (scenario !== 'ws-unused') {
    const compressed = await new Promise<Buffer>((resolve, reject) => pair.compress(MESSAGE, true, (error, data) => (error ? reject(error) : resolve(data!))));
    await new Promise<Buffer>((resolve, reject) => pair.decompress(compressed, true, (error, data) => (error ? reject(error) : resolve(data!))));
  }
  return pair;
}

async function measure(scenario: Scenario, pairs: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const make = scenario.startsWith('ours') ? ourPair : wsPair;
  await make(scenario); // warm up code paths outside the measurement
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const before = process.memoryUsage();
  const kept: unknown[] = [];
  for (let index = 0; index < pairs; index++) kept.push(await make(scenario));
  // Let closed zlib handles finish closing, and collect twice so freed backing stores leave `external`.
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  const after = process.memoryUsage();
  const per = (key: 'heapUsed' | 'external' | 'rss') => Math.round((after[key] - before[key]) / pairs);
  console.log(JSON.stringify({ scenario, pairs: kept.length, heapUsed: per('heapUsed'), external: per('external'), rss: per('rss') }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: node --import tsx bench/deflate-memory.ts [--pairs N]   (bytes per idle compressor+decompressor pair)');
    return;
  }
  const pairsAt = args.indexOf('--pairs');
  const pairs = pairsAt >= 0 ? Number(args[pairsAt + 1]) : 1000;
  const child = args.indexOf('--child');
  if (child >= 0) return measure(args[child + 1] as Scenario, pairs);
  console.log(`bytes per idle pair (compressor + decompressor), ${pairs} pairs, window 15, memLevel 8`);
  console.log('scenario            heapUsed   external        rss');
  for (const scenario of SCENARIOS) {
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', scenario, '--pairs', String(pairs)], { encoding: 'utf8' });
    const row = JSON.parse(output.trim().split('\n').pop()!);
    console.log(`${scenario.padEnd(18)}${String(row.heapUsed).padStart(10)} ${String(row.external).padStart(10)} ${String(row.rss).padStart(10)}`);
  }
}

await main();
