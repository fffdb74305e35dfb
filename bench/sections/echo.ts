// Section "echo": WebSocket echo throughput and round trips — ours vs ws vs a raw node:net echo,
// payloads 16 B to 1 MiB, 1 and 100 connections, closed loop with a window of messages in flight.
// Beside throughput: the server's own CPU time per echoed message (its process.cpuUsage over the
// generators' measured interval), which on 2 cores measures the server even when the generator
// saturates first, and the fairness of the load (the spread of per-connection throughput).

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { cpuMark, startChild, type ChildMessage } from '../processes.ts';
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
  /** Server CPU time per echoed message, in microseconds (user + system, over the measured interval). */
  serverCpuPerMessage: number;
  /** Server CPU share of one core over the measured interval. */
  serverCpu: number;
  /** Messages per second of each connection, sorted ascending. */
  perConnection: number[];
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
    type LoadResult = ChildMessage & { messages: number; perConnection: number[]; seconds: number; cpuShare: number; latencies: number[] };
    // The server's CPU counters are read when the generators start measuring and when they report.
    await Promise.all(generators.map((generator) => generator.next('measuring')));
    const before = await cpuMark(server);
    const results = await Promise.all(generators.map((generator) => generator.next<LoadResult>('result')));
    const after = await cpuMark(server);
    const serverCpu = (after.cpuMicroseconds - before.cpuMicroseconds) / (after.wallMicroseconds - before.wallMicroseconds);
    const messagesPerSecond = results.reduce((sum, result) => sum + result.messages / result.seconds, 0);
    const latencies = Float64Array.from(results.flatMap((result) => result.latencies));
    return {
      messagesPerSecond,
      megabytesPerSecond: (messagesPerSecond * echoCase.payloadBytes) / 1e6,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      generatorCpu: results.map((result) => result.cpuShare),
      serverCpu,
      serverCpuPerMessage: (serverCpu * 1e6) / messagesPerSecond,
      perConnection: results.flatMap((result) => result.perConnection.map((count) => count / result.seconds)).sort((a, b) => a - b),
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
  const fairness = echoCase.connections > 1 ? `; per-connection msg/s min / median / max: ours ${spread(ours)}, ws ${spread(ws)}` : '';
  const starvation = starvationNote(ours, ws);
  const cpuRows: Row[] = targeted && [16, 64 * 1024, 1024 * 1024].includes(echoCase.payloadBytes) ? [
    {
      section: 'echo', figure: `${name} server CPU per message`, unit: 'µs', ours: ours.serverCpuPerMessage, peerName: 'raw net', peer: raw.serverCpuPerMessage,
      target: { kind: 'at-most', value: 1.25 },
      note: `lower is better; target raw / ours ≥ 0.8; server CPU ours ${cpuShare(ours)}, raw ${cpuShare(raw)} of one core`,
    },
    {
      section: 'echo', figure: `${name} server CPU per message`, unit: 'µs', ours: ours.serverCpuPerMessage, peerName: 'ws', peer: ws.serverCpuPerMessage,
      target: { kind: 'at-most', value: 1 },
      note: `lower is better; server CPU ours ${cpuShare(ours)}, ws ${cpuShare(ws)} of one core`,
    },
  ] : [];
  return [
    {
      section: 'echo', figure: `${name} messages/s`, unit: 'msg/s', ours: ours.messagesPerSecond, peerName: 'ws', peer: ws.messagesPerSecond,
      target: versusWs, note: `ours ${megabytes(ours)}, ws ${megabytes(ws)}; ${generatorNote([ours, ws])}${fairness}`,
    },
    {
      section: 'echo', figure: `${name} messages/s`, unit: 'msg/s', ours: ours.messagesPerSecond, peerName: 'raw net', peer: raw.messagesPerSecond,
      target: versusRaw, note: `raw ${megabytes(raw)}; ${generatorNote([ours, raw])}`,
    },
    {
      section: 'echo', figure: `${name} round trip p50`, unit: 'ms', ours: ours.p50, peerName: 'ws', peer: ws.p50,
      note: `raw ${raw.p50.toFixed(3)} ms; lower is better${starvation}`,
    },
    {
      section: 'echo', figure: `${name} round trip p99`, unit: 'ms', ours: ours.p99, peerName: 'ws', peer: ws.p99,
      note: `raw ${raw.p99.toFixed(3)} ms; lower is better`,
    },
    ...cpuRows,
  ];
}

function cpuShare(measurement: Measurement): string {
  return `${Math.round(measurement.serverCpu * 100)}%`;
}

/** Per-connection throughput: slowest, median, fastest. */
function spread(measurement: Measurement): string {
  const rates = measurement.perConnection;
  if (rates.length === 0) return 'n/a';
  const round = (value: number) => String(Math.round(value));
  return `${round(rates[0])} / ${round(rates[Math.floor(rates.length / 2)])} / ${round(rates[rates.length - 1])}`;
}

/**
 * A peer with a much lower p50 but connections left nearly idle is not faster: it serves a few
 * connections while the rest wait (its p99 shows them). Say so where it happens.
 */
function starvationNote(ours: Measurement, ws: Measurement): string {
  if (ws.perConnection.length < 2 || ours.p50 < 2 * ws.p50) return '';
  const share = (measurement: Measurement) => measurement.perConnection[0] / measurement.perConnection[Math.floor(measurement.perConnection.length / 2)];
  if (share(ws) > 0.5) return '';
  return `. ws's low p50 is unfairness, not speed: its slowest connection ran at ${Math.round(share(ws) * 100)}% of its median ` +
    `(ours ${Math.round(share(ours) * 100)}%), so most round trips it measures are those of a few favoured connections`;
}

/** The generator's CPU share per run; flagged when it may be the limit rather than the server. */
function generatorNote(measurements: Measurement[]): string {
  const shares = measurements.map((measurement) => measurement.generatorCpu.map((share) => `${Math.round(share * 100)}%`).join('+'));
  const saturated = measurements.some((measurement) => measurement.generatorCpu.some((share) => share >= GENERATOR_SATURATED));
  return `generator CPU ${shares.join(' / ')}${saturated ? ' — GENERATOR SATURATED: the figure measures the generator' : ''}`;
}
