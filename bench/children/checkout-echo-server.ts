// Child process: the echo server of another checkout of this repository (bench/echo-ab.ts), started with
// that checkout's own `startEchoServer` on a free loopback port. Reports its port, then answers
// 'cpu-mark' requests with its CPU counters, like echo-server.ts, until the orchestrator stops it.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { answerCpuMarks, report, runChild } from '../processes.ts';

runChild(async () => {
  const [checkout, stack] = process.argv.slice(2);
  const { startEchoServer } = await import(pathToFileURL(resolve(checkout!, 'servers/echo/server.ts')).href);
  // `stack` is passed as given: a checkout from before the option existed ignores it (node:http).
  const server = await startEchoServer({ port: 0, host: '127.0.0.1', ...(stack ? { stack } : {}) });
  report({ type: 'ready', port: server.port });
  answerCpuMarks();
  await new Promise(() => {});
});
