// Child process: the load generator for compressed echo. N ws clients offering permessage-deflate
// (the same for both servers, so the ratio compares the servers), each a closed loop with a window of
// K text messages in flight. Reports messages over the measured interval, its own CPU share, the server's
// CPU time over the same interval (read from /proc by the server's pid) and the bytes the clients read off
// the wire — compressed answers — for the compression ratio.

import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { report, runChild } from '../processes.ts';
import { CpuMeter, processCpuSeconds } from '../stats.ts';

runChild(async () => {
  const [port, connections, payloadBytes, window, warmupMs, durationMs, serverPid] = process.argv.slice(2).map(Number);
  const message = jsonLikeText(payloadBytes);
  const sockets = await Promise.all(Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 6, memLevel: 8 } } });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  })));
  let measuring = false;
  let messages = 0;
  for (const socket of sockets) {
    if (!socket.extensions.startsWith('permessage-deflate')) throw new Error(`not negotiated: "${socket.extensions}"`);
    socket.on('message', () => {
      if (measuring) messages++;
      socket.send(message);
    });
    for (let index = 0; index < window; index++) socket.send(message);
  }
  const bytesRead = (): number => sockets.reduce((total, socket) => total + ((socket as unknown as { _socket?: { bytesRead: number } })._socket?.bytesRead ?? 0), 0);
  await delay(warmupMs);
  measuring = true;
  const cpu = new CpuMeter();
  const serverCpuBefore = processCpuSeconds(serverPid!);
  const wireBefore = bytesRead();
  const startedAt = performance.now();
  await delay(durationMs);
  measuring = false;
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuShare = cpu.shareOfOneCore();
  const serverCpuAfter = processCpuSeconds(serverPid!);
  const wireBytes = bytesRead() - wireBefore;
  const serverCpuSeconds = serverCpuBefore === undefined || serverCpuAfter === undefined ? undefined : serverCpuAfter - serverCpuBefore;
  for (const socket of sockets) socket.terminate();
  report({ type: 'result', messages, seconds, cpuShare, serverCpuSeconds, wireBytes, messageBytes: Buffer.byteLength(message) });
});

/** Chat-like JSON of about `bytes` bytes: repeated keys, varying values — what deflate is for. */
function jsonLikeText(bytes: number): string {
  const items: string[] = [];
  let length = 2;
  for (let index = 0; length < bytes; index++) {
    const item = JSON.stringify({ id: index, user: `user-${(index * 7919) % 97}`, room: 'general', text: `message number ${index * 31} in the room`, likes: (index * 13) % 50 });
    items.push(item);
    length += item.length + 1;
  }
  return `[${items.join(',')}]`.slice(0, bytes - 1) + ']';
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
