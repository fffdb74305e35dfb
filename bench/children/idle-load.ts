// Child process: opens N WebSocket connections and leaves them idle (the memory section), until stopped.

import { report, runChild } from '../processes.ts';
import { openMany } from '../wire.ts';

runChild(async () => {
  const [port, count] = process.argv.slice(2).map(Number);
  const opened = await openMany(port, count);
  for (const { socket } of opened) socket.on('error', () => {});
  report({ type: 'opened', count: opened.length });
  // Stay alive holding the sockets: the orchestrator stops this process.
  setInterval(() => {}, 60_000);
});
