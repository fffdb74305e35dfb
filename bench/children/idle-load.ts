// Child process: opens N WebSocket connections (from an optional source address) and leaves them idle
// (the memory section), until stopped.

import { report, runChild } from '../processes.ts';
import { openMany } from '../wire.ts';

runChild(async () => {
  const [port, count] = process.argv.slice(2).map(Number);
  const localAddress = process.argv[4]; // optional: a source address of its own (127.0.0.x)
  const retries = localAddress === undefined ? 0 : 3; // the many-connection run tolerates a rare slow handshake
  const opened = await openMany(port, count, '/', 200, '', localAddress, retries);
  for (const { socket } of opened) socket.on('error', () => {});
  report({ type: 'opened', count: opened.length, retried: opened.retried ?? 0 });
  // Stay alive holding the sockets: the orchestrator stops this process.
  setInterval(() => {}, 60_000);
});
