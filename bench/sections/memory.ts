// Section "memory": N idle WebSocket connections held by a generator process; the server's RSS and heap
// per connection after a full collection (--expose-gc), minus its own baseline. Ours vs ws.
// Then the many-connections row: as many idle connections as one server process may hold (100,000 asked,
// capped by the open-file limit the bench can raise it to), opened by several generator processes, each
// from its own 127.0.0.x source address; total RSS and heap, ours vs ws, beside a raw node:net echo.

import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import type { Row } from '../table.ts';

interface Memory { rss: number; heapUsed: number; heapTotal: number; external: number }
type MemoryMessage = ChildMessage & { memory: Memory; connections: number };

export async function runMemorySection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const count = options.idleConnections;
  const perConnection: Record<string, Memory> = {};
  for (const kind of ['ours', 'ws'] as const) {
    perConnection[kind] = await measureIdle(kind, count, options);
    log(`  ${kind}: ${Math.round(perConnection[kind].rss)} B RSS, ${Math.round(perConnection[kind].heapUsed)} B heap per connection`);
  }
  const { ours, ws } = perConnection;
  const note = `${count.toLocaleString('en-US')} idle connections; lower is better`;
  return [
    { section: 'memory', figure: 'RSS per idle connection', unit: 'bytes', ours: ours.rss, peerName: 'ws', peer: ws.rss, target: { kind: 'at-most', value: 0.8 }, note },
    { section: 'memory', figure: 'JS heap used per idle connection', unit: 'bytes', ours: ours.heapUsed, peerName: 'ws', peer: ws.heapUsed, note },
    {
      section: 'memory', figure: 'JS heap reserved per idle connection', unit: 'bytes', ours: ours.heapTotal, peerName: 'ws', peer: ws.heapTotal,
      note: 'heap pages V8 keeps after the collection: part of RSS, not of the heap used',
    },
    { section: 'memory', figure: 'external + ArrayBuffers per idle connection', unit: 'bytes', ours: ours.external, peerName: 'ws', peer: ws.external, note },
    ...(await manyConnectionRows(options, log).catch((error: unknown) => failedManyRow(error, log))),
  ];
}

/** The per-connection rows above stay valid when the long many-connection run fails: say why in its row. */
function failedManyRow(error: unknown, log: (line: string) => void): Row[] {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  log(`  many idle connections FAILED: ${message}`);
  return [{
    section: 'memory', figure: 'many idle connections in one process: total RSS', unit: 'MB', ours: Number.NaN, peerName: 'ws', peer: Number.NaN,
    target: { kind: 'at-most', value: 0.8 }, note: `FAILED: ${message}`,
  }];
}

/** Connections asked for in one server process; each generator process opens at most PER_GENERATOR. */
const MANY_CONNECTIONS = 100_000;
const PER_GENERATOR = 15_000;
/** File descriptors the server keeps for itself (listening socket, IPC, stdio, tsx, …). */
const SPARE_FILES = 500;

interface ManyResult { count: number; fileLimit: number; rss: number; heapUsed: number; retried: number }

async function manyConnectionRows(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const asked = byMode(options, { full: MANY_CONNECTIONS, quick: 5_000, tiny: 200 });
  const results: Record<string, ManyResult> = {};
  for (const kind of ['ours', 'ws', 'raw'] as const) {
    results[kind] = await measureMany(kind, asked, options);
    log(`  ${results[kind].count} idle connections, ${kind}: RSS ${megabytes(results[kind].rss)}, heap ${megabytes(results[kind].heapUsed)}`);
  }
  const { ours, ws, raw } = results;
  const count = Math.min(ours.count, ws.count, raw.count);
  const capped = count < asked
    ? `; ${asked.toLocaleString('en-US')} asked, but the server may open only ${ours.fileLimit.toLocaleString('en-US')} files here (hard limit; raising it needs CAP_SYS_RESOURCE)`
    : '';
  // The raw echo pipes each socket into itself: plain node:net sockets plus the stream state of pipe().
  const floor = (value: number) => `raw node:net echo (socket.pipe(socket)) ${megabytes(value)}`;
  return [
    {
      section: 'memory', figure: `${count.toLocaleString('en-US')} idle connections in one process: total RSS`, unit: 'MB', ours: ours.rss / 1e6, peerName: 'ws', peer: ws.rss / 1e6,
      target: { kind: 'at-most', value: 0.8 }, note: `${floor(raw.rss)}; after a full collection; lower is better${capped}; ` +
        `handshakes retried after a 30 s timeout: ours ${ours.retried}, ws ${ws.retried}, raw ${raw.retried}`,
    },
    {
      section: 'memory', figure: `${count.toLocaleString('en-US')} idle connections in one process: JS heap used`, unit: 'MB', ours: ours.heapUsed / 1e6, peerName: 'ws', peer: ws.heapUsed / 1e6,
      target: { kind: 'at-most', value: 0.8 }, note: `${floor(raw.heapUsed)}; lower is better`,
    },
  ];
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

async function measureMany(kind: string, asked: number, options: BenchOptions): Promise<ManyResult> {
  const server = startChild('echo-server', [kind], { nodeFlags: serverFlags(options, `many-${kind}`), raiseFileLimit: true });
  const generators: ReturnType<typeof startChild>[] = [];
  try {
    const { port, fileLimit } = await server.next<ChildMessage & { port: number; fileLimit: number }>('ready');
    const count = Number.isFinite(fileLimit) ? Math.min(asked, fileLimit - SPARE_FILES) : asked;
    for (let opened = 0, index = 0; opened < count; opened += PER_GENERATOR, index++) {
      const share = Math.min(PER_GENERATOR, count - opened);
      // One source address per generator: one address has only ~28,000 ephemeral ports towards our port.
      generators.push(startChild('idle-load', [String(port), String(share), `127.0.0.${11 + index}`]));
    }
    const opened = await Promise.all(generators.map((generator) => generator.next<ChildMessage & { retried: number }>('opened', 900_000)));
    server.send({ type: 'measure' });
    const loaded = await server.next<MemoryMessage>('memory');
    if (loaded.connections !== count) throw new Error(`${kind} server holds ${loaded.connections} connections, expected ${count}`);
    return { count, fileLimit, rss: loaded.memory.rss, heapUsed: loaded.memory.heapUsed, retried: opened.reduce((sum, result) => sum + result.retried, 0) };
  } finally {
    await Promise.all([server.stop(), ...generators.map((generator) => generator.stop())]);
  }
}

async function measureIdle(kind: string, count: number, options: BenchOptions): Promise<Memory> {
  const server = startChild('echo-server', [kind], { nodeFlags: serverFlags(options, `memory-${kind}`) });
  let generator: ReturnType<typeof startChild> | undefined;
  try {
    const { port } = await server.next<ChildMessage & { port: number }>('ready');
    server.send({ type: 'measure' });
    const baseline = await server.next<MemoryMessage>('memory');
    generator = startChild('idle-load', [String(port), String(count)]);
    await generator.next('opened', 300_000);
    server.send({ type: 'measure' });
    const loaded = await server.next<MemoryMessage>('memory');
    if (loaded.connections !== count) throw new Error(`${kind} server holds ${loaded.connections} connections, expected ${count}`);
    return {
      rss: (loaded.memory.rss - baseline.memory.rss) / count,
      heapUsed: (loaded.memory.heapUsed - baseline.memory.heapUsed) / count,
      heapTotal: (loaded.memory.heapTotal - baseline.memory.heapTotal) / count,
      external: (loaded.memory.external - baseline.memory.external) / count,
    };
  } finally {
    await Promise.all([server.stop(), generator?.stop()]);
  }
}
