// Child process: one echo server under test (`ours`, `ws` or `raw`). Reports its port, then answers
// 'measure' requests with its memory after a full collection, and 'cpu-mark' requests with its own CPU
// counters (process.cpuUsage), until the orchestrator stops it.

import { answerCpuMarks, fromParent, report, runChild } from '../processes.ts';
import { measuredMemory, startEcho, type EchoKind } from './servers.ts';

runChild(async () => {
  const kind = process.argv[2] as EchoKind;
  const server = await startEcho(kind);
  report({ type: 'ready', port: server.port, memory: measuredMemory(), fileLimit: Number(process.env.HANDROLLED_FILE_LIMIT ?? Number.NaN) });
  answerCpuMarks();
  for (;;) {
    await fromParent('measure');
    report({ type: 'memory', memory: measuredMemory(), connections: server.connectionCount() });
  }
});
