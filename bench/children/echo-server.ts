// Child process: one echo server under test (`ours`, `ws` or `raw`). Reports its port, then answers
// 'measure' requests with its memory after a full collection, and 'cpu-mark' requests with its own CPU
// counters (process.cpuUsage), until the orchestrator stops it.

import { fromParent, report, runChild } from '../processes.ts';
import { measuredMemory, startEcho, type EchoKind } from './servers.ts';

runChild(async () => {
  const kind = process.argv[2] as EchoKind;
  const server = await startEcho(kind);
  report({ type: 'ready', port: server.port, memory: measuredMemory(), fileLimit: Number(process.env.HANDROLLED_FILE_LIMIT ?? Number.NaN) });
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'cpu-mark') return;
    const usage = process.cpuUsage();
    report({ type: 'cpu', cpuMicroseconds: usage.user + usage.system, wallMicroseconds: Number(process.hrtime.bigint() / 1000n) });
  });
  for (;;) {
    await fromParent('measure');
    report({ type: 'memory', memory: measuredMemory(), connections: server.connectionCount() });
  }
});
