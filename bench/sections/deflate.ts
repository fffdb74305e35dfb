// Section "deflate": permessage-deflate (RFC 7692) echo, ours vs ws, both with the extension on and the
// same parameters (bench/children/deflate-echo-server.ts); the load is ws clients for both servers.
// JSON-like text (compressible), 1 KiB and 64 KiB, 100 connections. Then a compressed broadcast: one
// 1 KiB text to a room of members that agreed to server_no_context_takeover (ours compresses it once).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

/** Load processes per echo run (each a share of the ws clients). */
const DEFLATE_GENERATORS = 2;

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
const mean = (values: number[]): number => sum(values) / values.length;

interface Measurement {
  messagesPerSecond: number;
  generatorCpu: number;
  /** Server CPU seconds per MB of message text echoed (undefined where /proc is not readable). */
  serverCpuPerMegabyte: number | undefined;
  /** Wire bytes the clients read per byte of message text: the compression ratio of the answers. */
  wireRatio: number;
}

export async function runDeflateSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const warmupMs = byMode(options, { full: 1000, quick: 300, tiny: 100 });
  const durationMs = byMode(options, { full: 3000, quick: 700, tiny: 300 });
  const rows: Row[] = [];
  for (const deflateCase of options.mode === 'tiny' ? CASES.slice(0, 1) : CASES) {
    const results = await bestOf(options.repeat, ['ours', 'ws'] as const, async (kind) => {
      const server = startChild('deflate-echo-server', [kind], { nodeFlags: serverFlags(options, `deflate-${kind}-${deflateCase.payloadBytes}`) });
      const loads: ReturnType<typeof startChild>[] = [];
      try {
        const { port } = await server.next<ChildMessage & { port: number }>('ready');
        // The ws clients are the heaviest part of this run: one load process saturates before either
        // server does, so the connections are split over DEFLATE_GENERATORS processes.
        for (let index = 0; index < DEFLATE_GENERATORS; index++) {
          const connections = Math.round(deflateCase.connections / DEFLATE_GENERATORS);
          loads.push(startChild('deflate-echo-load', [port, connections, deflateCase.payloadBytes, deflateCase.window, warmupMs, durationMs, server.process.pid!].map(String)));
        }
        type LoadResult = ChildMessage & { messages: number; seconds: number; cpuShare: number; serverCpuSeconds?: number; wireBytes: number; messageBytes: number };
        const results = await Promise.all(loads.map((load) => load.next<LoadResult>('result')));
        const messages = sum(results.map((result) => result.messages));
        const seconds = mean(results.map((result) => result.seconds));
        const textMegabytes = (messages * results[0]!.messageBytes) / 1e6;
        // The loads measure over the same interval (same warm-up and duration): their readings of the
        // server's CPU overlap, so their mean is the server's CPU over that interval.
        const serverCpu = results.every((result) => result.serverCpuSeconds !== undefined) ? mean(results.map((result) => result.serverCpuSeconds!)) : undefined;
        const measurement: Measurement = {
          messagesPerSecond: messages / seconds,
          generatorCpu: Math.max(...results.map((result) => result.cpuShare)),
          serverCpuPerMegabyte: serverCpu === undefined || textMegabytes === 0 ? undefined : serverCpu / textMegabytes,
          wireRatio: messages === 0 ? 1 : sum(results.map((result) => result.wireBytes)) / (messages * results[0]!.messageBytes),
        };
        log(`  deflate echo ${deflateCase.label} N=${deflateCase.connections} ${kind}: ${Math.round(measurement.messagesPerSecond)} msg/s`);
        return measurement;
      } finally {
        await Promise.all([server.stop(), ...loads.map((load) => load.stop())]);
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
      note: `perMessageDeflate on both (window 15, takeover, level 6); ws clients in ${DEFLATE_GENERATORS} load processes; busiest generator CPU ${Math.round(results.ours.generatorCpu * 100)}% / ${Math.round(results.ws.generatorCpu * 100)}%${saturated ? ' — GENERATOR SATURATED' : ''}`,
    });
    if (results.ours.serverCpuPerMegabyte !== undefined && results.ws.serverCpuPerMegabyte !== undefined) {
      rows.push({
        section: 'deflate',
        figure: `echo ${deflateCase.label}: server CPU per MB of text echoed`,
        unit: 'ms/MB',
        ours: results.ours.serverCpuPerMegabyte * 1000,
        peerName: 'ws',
        peer: results.ws.serverCpuPerMegabyte * 1000,
        note: 'lower is better; the server process\'s own CPU time (/proc) over the measured interval, inflate + deflate + framing',
      });
    }
    rows.push({
      section: 'deflate',
      figure: `echo ${deflateCase.label}: wire bytes per byte of text (compression ratio of the answers)`,
      unit: 'ratio',
      ours: results.ours.wireRatio,
      peerName: 'ws',
      peer: results.ws.wireRatio,
      note: 'lower is better; bytes the clients read off the socket (frame headers included) over the message bytes',
    });
  }
  rows.push(await fanoutRow(options, log));
  rows.push(...idleMemoryRows(options, log));
  return rows;
}

/**
 * Memory of an idle permessage-deflate connection's zlib side — one compressor and one decompressor
 * after one 1 KiB message — ours beside ws's, each scenario in its own child (bench/deflate-memory.ts).
 */
function idleMemoryRows(options: BenchOptions, log: (line: string) => void): Row[] {
  const pairs = byMode(options, { full: 1000, quick: 300, tiny: 50 });
  const script = fileURLToPath(new URL('../deflate-memory.ts', import.meta.url));
  const measure = (scenario: string): { rss: number; heapUsed: number; external: number } => {
    const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '--child', scenario, '--pairs', String(pairs)], { encoding: 'utf8' });
    return JSON.parse(output.trim().split('\n').pop()!);
  };
  return (['takeover', 'no-takeover'] as const).map((mode) => {
    const ours = measure(`ours-${mode}`);
    const ws = measure(`ws-${mode}`);
    log(`  deflate idle pair ${mode}: ours ${ours.rss} B RSS, ws ${ws.rss} B RSS`);
    return {
      section: 'deflate',
      figure: `memory per idle deflate connection, ${mode === 'takeover' ? 'context takeover' : 'no context takeover'} (RSS bytes)`,
      unit: 'bytes',
      ours: ours.rss,
      peerName: 'ws',
      peer: ws.rss,
      target: { kind: 'at-most', value: 1 },
      note: `lower is better; ${pairs} compressor + decompressor pairs after one 1 KiB message, window 15, memLevel 8; heap ${ours.heapUsed} / ${ws.heapUsed}, external ${ours.external} / ${ws.external}`,
    } satisfies Row;
  });
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
