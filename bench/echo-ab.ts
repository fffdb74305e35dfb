// Echo throughput of two checkouts' servers, alternated under the same load generator:
//   node --import tsx bench/echo-ab.ts OLD_CHECKOUT NEW_CHECKOUT [--size 16] [--window 16] [--rounds 6] [--stack raw|node] [--pin]
// Each round starts each side's echo server (its own `servers/echo/server.ts`) in a child process and
// puts 100 connections of bench/children/echo-load.ts on it: 0.5 s of warm-up, then 2 s measured. The
// order alternates from round to round. Prints messages/s and server CPU per message of every round.
// `--pin` runs the servers on CPU 0 and the load generator on CPU 1 (taskset), so they never share a core.
// Why beside `npm run bench`: its quick echo rows measure 0.7 s right after start, where warming up
// (JIT, heap growth, fresh buffers) weighs more than the steady state a change is meant to improve.

import { parseArgs } from 'node:util';
import { cpuMark, startChild, type ChildMessage } from './processes.ts';
import { median } from './stats.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: '16' }, window: { type: 'string', default: '16' }, rounds: { type: 'string', default: '6' }, stack: { type: 'string', default: '' }, pin: { type: 'boolean', default: false } },
});
const [oldCheckout, newCheckout] = positionals;
if (oldCheckout === undefined || newCheckout === undefined) {
  console.error('usage: node --import tsx bench/echo-ab.ts OLD_CHECKOUT NEW_CHECKOUT [--size 16] [--window 16] [--rounds 6] [--stack raw|node] [--pin]');
  process.exit(2);
}
const CONNECTIONS = 100;
const WARM_UP_MS = 500;
const MEASURED_MS = 2000;
const size = Number(values.size);
const window = Number(values.window);
const sides = [['old', oldCheckout], ['new', newCheckout]] as const;
const rates = { old: [] as number[], new: [] as number[] };
const cpuPerMessage = { old: [] as number[], new: [] as number[] };

for (let round = 0; round < Number(values.rounds); round++) {
  for (const [side, checkout] of round % 2 === 0 ? sides : [...sides].reverse()) {
    const server = startChild('checkout-echo-server', [checkout, values.stack], { cpu: values.pin ? 0 : undefined });
    try {
      const { port } = await server.next<ChildMessage & { port: number }>('ready');
      const load = startChild('echo-load', [port, CONNECTIONS, size, window, WARM_UP_MS, MEASURED_MS].map(String), { cpu: values.pin ? 1 : undefined });
      await load.next('measuring');
      const before = await cpuMark(server);
      const result = await load.next<ChildMessage & { messages: number; seconds: number }>('result');
      const after = await cpuMark(server);
      rates[side].push(result.messages / result.seconds);
      cpuPerMessage[side].push((after.cpuMicroseconds - before.cpuMicroseconds) / result.messages);
      await load.stop();
    } finally {
      await server.stop();
    }
  }
}
for (const [side, checkout] of sides) {
  console.log(`${side} ${checkout}: msg/s ${rates[side].map(Math.round).join(' ')} (median ${Math.round(median(rates[side]))}); server CPU µs/msg ${cpuPerMessage[side].map((value) => value.toFixed(1)).join(' ')}`);
}
// The machine drifts over a run (both sides slow down or speed up together), so the two servers of one
// round, measured seconds apart, are compared with each other: the median of those ratios is the figure.
const roundRatios = rates.new.map((rate, round) => rate / rates.old[round]!);
console.log(`round ratios new/old: ${roundRatios.map((ratio) => ratio.toFixed(2)).join(' ')}`);
console.log(`${size} B, window ${window}, N=${CONNECTIONS}: new/old messages/s, median of round ratios ${median(roundRatios).toFixed(2)} (of medians ${(median(rates.new) / median(rates.old)).toFixed(2)})`);
process.exit(0);
