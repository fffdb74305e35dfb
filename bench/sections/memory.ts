// Section "memory": N idle WebSocket connections held by a generator process; the server's RSS and heap
// per connection after a full collection (--expose-gc), minus its own baseline. Ours vs ws.

import type { BenchOptions } from '../options.ts';
import { serverFlags } from '../options.ts';
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
  ];
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
