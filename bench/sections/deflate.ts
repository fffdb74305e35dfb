// Section "deflate": permessage-deflate (RFC 7692) echo, ours vs ws, both with the extension on and the
// same parameters (bench/children/deflate-echo-server.ts); the load is ws clients for both servers.
// JSON-like text (compressible), 1 KiB and 64 KiB, 100 connections. Then a compressed broadcast: one
// 1 KiB text to a room of members that agreed to server_no_context_takeover (ours compresses it once).

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';

const CASES = [
  { payloadBytes: 1024, label: '1 KiB JSON', connections: 100, window: 4, target: 1.5 },
  { payloadBytes: 64 * 1024, label: '64 KiB JSON', connections: 100, window: 1, target: 1.2 },
];

interface Measurement { messagesPerSecond: number; generatorCpu: number }

export async function runDeflateSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const warmupMs = byMode(options, { full: 1000, quick: 300, tiny: 100 });
  const durationMs = byMode(options, { full: 3000, quick: 700, tiny: 300 });
  const rows: Row[] = [];
  for (const deflateCase of options.mode === 'tiny' ? CASES.slice(0, 1) : CASES) {
    const results = await bestOf(options.repeat, ['ours', 'ws'] as const, async (kind) => {
      const server = startChild('deflate-echo-server', [kind], { nodeFlags: serverFlags(options, `deflate-${kind}-${deflateCase.payloadBytes}`) });
      const generator = { stop: async () => {} } as { stop(): Promise<void> };
      try {
        const { port } = await server.next<ChildMessage & { port: number }>('ready');
        const load = startChild('deflate-echo-load', [port, deflateCase.connections, deflateCase.payloadBytes, deflateCase.window, warmupMs, durationMs].map(String));
        generator.stop = () => load.stop();
        const result = await load.next<ChildMessage & { messages: number; seconds: number; cpuShare: number }>('result');
        const measurement = { messagesPerSecond: result.messages / result.seconds, generatorCpu: result.cpuShare };
        log(`  deflate echo ${deflateCase.label} N=${deflateCase.connections} ${kind}: ${Math.round(measurement.messagesPerSecond)} msg/s`);
        return measurement;
      } finally {
        await Promise.all([server.stop(), generator.stop()]);
      }
    }, (measurement) => measurement.messagesPerSecond);
    const saturated = [results.ours, results.ws].some((measurement) => measurement.generatorCpu >= GENERATOR_SATURATED);
    rows.push({
      section: 'deflate',
      figure: `echo ${deflateCase.label} N=${deflateCase.connections} K=${deflateCase.window} messages/s`,
      unit: 'msg/s',
      ours: results.ours.messagesPerSecond,
      peerName: 'ws',
      peer: results.ws.messagesPerSecond,
      target: { kind: 'at-least', value: deflateCase.target },
      note: `perMessageDeflate on both (window 15, takeover, level 6); ws clients as load; generator CPU ${Math.round(results.ours.generatorCpu * 100)}% / ${Math.round(results.ws.generatorCpu * 100)}%${saturated ? ' — GENERATOR SATURATED' : ''}`,
    });
  }
  rows.push(await fanoutRow(options, log));
  return rows;
}

type FanoutResult = ChildMessage & { seconds: number; cpuShare: number; deliveries: number };

async function fanoutRow(options: BenchOptions, log: (line: string) => void): Promise<Row> {
  const members = byMode(options, { full: 1000, quick: 500, tiny: 50 });
  const messages = byMode(options, { full: 200, quick: 100, tiny: 20 });
  const results = await bestOf(options.repeat, ['ours', 'ws'] as const, async (kind) => {
    const server = startChild('room-server', [kind, 'deflate'], { nodeFlags: serverFlags(options, `deflate-fanout-${kind}`) });
    let generator: ReturnType<typeof startChild> | undefined;
    try {
      const { port } = await server.next<ChildMessage & { port: number }>('ready');
      generator = startChild('fanout-load', [port, members, messages, 'paced', 'deflate'].map(String));
      const result = await generator.next<FanoutResult>('result');
      log(`  deflate fanout ${kind}: ${Math.round(result.deliveries / result.seconds)} deliveries/s`);
      return result;
    } finally {
      await Promise.all([server.stop(), generator?.stop()]);
    }
  }, (result) => result.deliveries / result.seconds);
  const { ours, ws } = results;
  return {
    section: 'deflate',
    figure: `compressed broadcast: ${members} members × ${messages} msgs of 1 KiB, deliveries/s`,
    unit: 'msg/s',
    ours: ours.deliveries / ours.seconds,
    peerName: 'ws room',
    peer: ws.deliveries / ws.seconds,
    target: { kind: 'at-least', value: 3 },
    note: `server_no_context_takeover; ours compresses once per broadcast, ws once per member; generator CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(ws.cpuShare * 100)}%`,
  };
}
