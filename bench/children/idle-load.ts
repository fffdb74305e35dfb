// Child process: opens N WebSocket connections (from an optional source address) and leaves them idle
// (the memory section), until stopped.

import { report, runChild } from '../processes.ts';
import { openMany } from '../wire.ts';

runChild(async () => {
  const [port, count] = process.argv.slice(2).map(Number);
  const localAddress = process.argv[4]; // optional: a source address of its own (127.0.0.x)
  const opened = await openMany(port, count, '/', 200, localAddress);
  for (const { socket } of opened) socket.on('error', () => {});
  report({ type: 'opened', count: opened.length });
  // Stay alive holding the sockets: the orchestrator stops this process.
  setInterval(() => {}, 60_000);
});
