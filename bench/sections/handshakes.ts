// Section "handshakes": opening handshakes per second at concurrency 50 (connect, upgrade, close
// handshake, TCP closed by the server), ours vs ws.

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';

const CONCURRENCY = 50;
type HandshakeResult = ChildMessage & { cycles: number; failures: number; seconds: number; cpuShare: number };

export async function runHandshakeSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const warmupMs = byMode(options, { full: 1000, quick: 300, tiny: 100 });
  const durationMs = byMode(options, { full: 4000, quick: 1000, tiny: 300 });
  const results = await bestOf(options.repeat, ['ours', 'ws'] as const, async (kind) => {
    let result: HandshakeResult;
    const server = startChild('echo-server', [kind], { nodeFlags: serverFlags(options, `handshakes-${kind}`) });
    let generator: ReturnType<typeof startChild> | undefined;
    try {
      const { port } = await server.next<ChildMessage & { port: number }>('ready');
      generator = startChild('handshake-load', [port, CONCURRENCY, warmupMs, durationMs].map(String));
      result = await generator.next<HandshakeResult>('result');
    } finally {
      await Promise.all([server.stop(), generator?.stop()]);
    }
    log(`  ${kind}: ${Math.round(result.cycles / result.seconds)} handshakes/s (${result.failures} failed)`);
    return result;
  }, (result) => result.cycles / result.seconds);
  const { ours, ws } = results;
  const saturated = Math.max(ours.cpuShare, ws.cpuShare) >= GENERATOR_SATURATED;
  return [{
    section: 'handshakes', figure: `handshakes/s at concurrency ${CONCURRENCY}`, unit: '1/s', ours: ours.cycles / ours.seconds, peerName: 'ws',
    peer: ws.cycles / ws.seconds, target: { kind: 'at-least', value: 1.2 },
    note: `connect + upgrade + close handshake; failures ${ours.failures} / ${ws.failures}; generator CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(ws.cpuShare * 100)}%${saturated ? ' — GENERATOR SATURATED' : ''}`,
  }];
}
