// Section "echo": WebSocket echo throughput and round trips — ours vs ws vs a raw node:net echo,
// payloads 16 B to 1 MiB, 1 and 100 connections, closed loop with a window of messages in flight.

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED, percentile } from '../stats.ts';
import type { Row, Target } from '../table.ts';
import type { EchoKind } from '../children/servers.ts';

interface Measurement {
  messagesPerSecond: number;
  megabytesPerSecond: number;
  p50: number;
  p99: number;
  /** CPU share of one core of each generator process. */
  generatorCpu: number[];
}

interface EchoCase { payloadBytes: number; label: string; connections: number; window: number }

function cases(): EchoCase[] {
  const payloads = [
    { payloadBytes: 16, label: '16 B', window: 16 },
    { payloadBytes: 1024, label: '1 KiB', window: 16 },
    { payloadBytes: 64 * 1024, label: '64 KiB', window: 4 },
    { payloadBytes: 1024 * 1024, label: '1 MiB', window: 2 },
  ];
  const all: EchoCase[] = [];
  for (const payload of payloads) {
    for (const connections of [1, 100]) {
      // 100 connections × 2 MiB in flight would measure memory pressure more than echo.
      const window = payload.payloadBytes >= 1024 * 1024 && connections > 1 ? 1 : payload.window;
      all.push({ ...payload, connections, window });
    }
  }
  return all;
}

export async function runEchoSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const warmupMs = byMode(options, { full: 1000, quick: 200, tiny: 100 });
  const durationMs = byMode(options, { full: 3000, quick: 500, tiny: 300 });
  const rows: Row[] = [];
  // Quick runs keep the figures that have targets (N=100); tiny runs one payload size.
  const selected = cases().filter((echoCase) =>
    options.mode === 'full' || (echoCase.connections > 1 && (options.mode === 'quick' || echoCase.payloadBytes === 16)));
  for (const echoCase of selected) {
    const results = await bestOf(options.repeat, ['ours', 'ws', 'raw'] as const, async (kind) => {
      const measurement = await measureEcho(kind, echoCase, options, warmupMs, durationMs);
      log(`  echo ${echoCase.label} N=${echoCase.connections} ${kind}: ${Math.round(measurement.messagesPerSecond)} msg/s`);
      return measurement;
    }, (measurement) => measurement.messagesPerSecond);
    rows.push(...echoRows(echoCase, results));
  }
  return rows;
}

async function measureEcho(kind: EchoKind, echoCase: EchoCase, options: BenchOptions, warmupMs: number, durationMs: number): Promise<Measurement> {
  const label = `echo-${kind}-${echoCase.payloadBytes}-${echoCase.connections}`;
  const server = startChild('echo-server', [kind], { nodeFlags: serverFlags(options, label) });
  const generators: ReturnType<typeof startChild>[] = [];
  try {
    const { port } = await server.next<ChildMessage & { port: number }>('ready');
    const generatorCount = echoCase.connections > 1 ? Math.min(options.generators, echoCase.connections) : 1;
    for (let index = 0; index < generatorCount; index++) {
      const connections = Math.floor(echoCase.connections / generatorCount) + (index < echoCase.connections % generatorCount ? 1 : 0);
      generators.push(startChild('echo-load', [port, connections, echoCase.payloadBytes, echoCase.window, warmupMs, durationMs].map(String)));
    }
    type LoadResult = ChildMessage & { messages: number; seconds: number; cpuShare: number; latencies: number[] };
    const results = await Promise.all(generators.map((generator) => generator.next<LoadResult>('result')));
    const messagesPerSecond = results.reduce((sum, result) => sum + result.messages / result.seconds, 0);
    const latencies = Float64Array.from(results.flatMap((result) => result.latencies));
    return {
      messagesPerSecond,
      megabytesPerSecond: (messagesPerSecond * echoCase.payloadBytes) / 1e6,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      generatorCpu: results.map((result) => result.cpuShare),
    };
  } finally {
    await Promise.all([server.stop(), ...generators.map((generator) => generator.stop())]);
  }
}

function echoRows(echoCase: EchoCase, results: Record<EchoKind, Measurement>): Row[] {
  const { ours, ws, raw } = results;
  const name = `${echoCase.label} N=${echoCase.connections} K=${echoCase.window}`;
  const small = echoCase.payloadBytes <= 1024;
  const targeted = echoCase.connections >= 100;
  const versusWs: Target | undefined = targeted ? { kind: 'at-least', value: small ? 3 : 2 } : undefined;
  const versusRaw: Target | undefined = targeted ? { kind: 'at-least', value: small ? 0.4 : 0.6 } : undefined;
  const megabytes = (measurement: Measurement) => `${measurement.megabytesPerSecond.toFixed(1)} MB/s`;
  return [
    {
      section: 'echo', figure: `${name} messages/s`, unit: 'msg/s', ours: ours.messagesPerSecond, peerName: 'ws', peer: ws.messagesPerSecond,
      target: versusWs, note: `ours ${megabytes(ours)}, ws ${megabytes(ws)}; ${generatorNote([ours, ws])}`,
    },
    {
      section: 'echo', figure: `${name} messages/s`, unit: 'msg/s', ours: ours.messagesPerSecond, peerName: 'raw net', peer: raw.messagesPerSecond,
      target: versusRaw, note: `raw ${megabytes(raw)}; ${generatorNote([ours, raw])}`,
    },
    {
      section: 'echo', figure: `${name} round trip p50`, unit: 'ms', ours: ours.p50, peerName: 'ws', peer: ws.p50,
      note: `raw ${raw.p50.toFixed(3)} ms; lower is better`,
    },
    {
      section: 'echo', figure: `${name} round trip p99`, unit: 'ms', ours: ours.p99, peerName: 'ws', peer: ws.p99,
      note: `raw ${raw.p99.toFixed(3)} ms; lower is better`,
    },
  ];
}

/** The generator's CPU share per run; flagged when it may be the limit rather than the server. */
function generatorNote(measurements: Measurement[]): string {
  const shares = measurements.map((measurement) => measurement.generatorCpu.map((share) => `${Math.round(share * 100)}%`).join('+'));
  const saturated = measurements.some((measurement) => measurement.generatorCpu.some((share) => share >= GENERATOR_SATURATED));
  return `generator CPU ${shares.join(' / ')}${saturated ? ' — GENERATOR SATURATED: the figure measures the generator' : ''}`;
}
