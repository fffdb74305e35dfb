// Section "handshakes": opening handshakes per second at concurrency 50 (connect, upgrade, close
// handshake, TCP closed by the server), ours (on our raw HTTP server) vs ws. The 50 loops are spread over
// several generator processes, so that one saturated generator does not cap both sides at its own speed;
// each generator's CPU and the server's own CPU per handshake are reported beside the rate.

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { cpuMark, startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';

const CONCURRENCY = 50;
const GENERATORS = 2;
type HandshakeResult = ChildMessage & { cycles: number; failures: number; seconds: number; cpuShare: number };

interface Measurement { rate: number; failures: number; generatorCpu: number[]; serverCpu: number }

export async function runHandshakeSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const warmupMs = byMode(options, { full: 1000, quick: 300, tiny: 100 });
  const durationMs = byMode(options, { full: 4000, quick: 1000, tiny: 300 });
  const results = await bestOf(options.repeat, ['ours', 'ws'] as const, async (kind) => {
    const server = startChild('echo-server', [kind], { nodeFlags: serverFlags(options, `handshakes-${kind}`) });
    const generators: ReturnType<typeof startChild>[] = [];
    let measurement: Measurement;
    try {
      const { port } = await server.next<ChildMessage & { port: number }>('ready');
      for (let index = 0; index < GENERATORS; index++) {
        generators.push(startChild('handshake-load', [port, CONCURRENCY / GENERATORS, warmupMs, durationMs].map(String)));
      }
      await Promise.all(generators.map((generator) => generator.next('measuring')));
      const before = await cpuMark(server);
      const generated = await Promise.all(generators.map((generator) => generator.next<HandshakeResult>('result')));
      const after = await cpuMark(server);
      measurement = {
        rate: generated.reduce((sum, result) => sum + result.cycles / result.seconds, 0),
        failures: generated.reduce((sum, result) => sum + result.failures, 0),
        generatorCpu: generated.map((result) => result.cpuShare),
        serverCpu: (after.cpuMicroseconds - before.cpuMicroseconds) / (after.wallMicroseconds - before.wallMicroseconds),
      };
    } finally {
      await Promise.all([server.stop(), ...generators.map((generator) => generator.stop())]);
    }
    log(`  ${kind}: ${Math.round(measurement.rate)} handshakes/s (${measurement.failures} failed), server CPU ${percent(measurement.serverCpu)}`);
    return measurement;
  }, (measurement) => measurement.rate);
  const { ours, ws } = results;
  const saturated = [...ours.generatorCpu, ...ws.generatorCpu].some((share) => share >= GENERATOR_SATURATED);
  const generatorCpu = (measurement: Measurement) => measurement.generatorCpu.map(percent).join('+');
  const perHandshake = (measurement: Measurement) => `${((measurement.serverCpu * 1e6) / measurement.rate).toFixed(0)} µs`;
  return [{
    section: 'handshakes', figure: `opening + closing handshakes at concurrency ${CONCURRENCY}`, unit: 'handshakes/s', ours: ours.rate, peerName: 'ws',
    peer: ws.rate, target: { kind: 'at-least', value: 1.5 },
    note: `connect + upgrade + close handshake, ours on our raw HTTP server; failures ${ours.failures} / ${ws.failures}; ` +
      `${GENERATORS} generator processes, CPU ${generatorCpu(ours)} / ${generatorCpu(ws)}${saturated ? ' — GENERATOR SATURATED' : ''}; ` +
      `server CPU ${percent(ours.serverCpu)} / ${percent(ws.serverCpu)} of one core, ${perHandshake(ours)} / ${perHandshake(ws)} per handshake`,
  }];
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
