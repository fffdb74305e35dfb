// Section "fanout": one room of 1,000 clients, one sender, 1,000 small messages; time until every client
// has every message. Ours (broadcast, framed once) vs the same room on ws (send per client). Paced: one
// message per write of the sender (the target row); burst: all in one write (full runs only).

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';


interface FanoutResult { seconds: number; cpuShare: number; deliveries: number }

export async function runFanoutSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const clients = byMode(options, { full: 1000, quick: 500, tiny: 50 });
  const messages = byMode(options, { full: 1000, quick: 500, tiny: 50 });
  const rows: Row[] = [];
  for (const mode of options.quick ? ['paced'] : ['paced', 'burst']) {
    const results: Record<string, FanoutResult> = {};
    for (const kind of ['ours', 'ws']) {
      results[kind] = await measureFanout(kind, mode, clients, messages, options);
      log(`  fanout ${mode} ${kind}: ${(results[kind].seconds * 1000).toFixed(0)} ms, ${Math.round(results[kind].deliveries / results[kind].seconds)} deliveries/s`);
    }
    const { ours, ws } = results;
    const cpuNote = `generator CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(ws.cpuShare * 100)}%` +
      (Math.max(ours.cpuShare, ws.cpuShare) >= GENERATOR_SATURATED ? ' — GENERATOR SATURATED' : '');
    const how = mode === 'paced' ? 'one message per write of the sender' : 'all messages in one write of the sender';
    rows.push(
      {
        section: 'fanout', figure: `${clients} clients × ${messages} msgs, ${mode}, deliveries/s`, unit: 'msg/s', ours: ours.deliveries / ours.seconds,
        peerName: 'ws room', peer: ws.deliveries / ws.seconds, target: mode === 'paced' ? { kind: 'at-least', value: 3 } : undefined,
        note: `16-byte text, ${how}; ${cpuNote}`,
      },
      {
        section: 'fanout', figure: `${mode}: time until every client has every message`, unit: 'ms', ours: ours.seconds * 1000,
        peerName: 'ws room', peer: ws.seconds * 1000, note: 'lower is better',
      },
    );
  }
  return rows;
}

async function measureFanout(kind: string, mode: string, clients: number, messages: number, options: BenchOptions): Promise<FanoutResult> {
  const server = startChild('room-server', [kind], { nodeFlags: serverFlags(options, `fanout-${mode}-${kind}`) });
  let generator: ReturnType<typeof startChild> | undefined;
  try {
    const { port } = await server.next<ChildMessage & { port: number }>('ready');
    generator = startChild('fanout-load', [String(port), String(clients), String(messages), mode]);
    return await generator.next<ChildMessage & FanoutResult>('result');
  } finally {
    await Promise.all([server.stop(), generator?.stop()]);
  }
}
