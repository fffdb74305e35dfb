// Child process: the compressed fan-out generator. A room of raw connections that offer
// permessage-deflate with server_no_context_takeover (the wire helpers count frame headers only, so
// compressed payloads cost the generator nothing), one sender of a 1 KiB JSON-like text message,
// paced one message per turn of the event loop; times until every member has every message.

import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';
import { FrameCounter, maskedFrame, openMany, openWebSocket, Opcode } from '../wire.ts';

const OFFER = 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n';

runChild(async () => {
  const [port, clients, messages] = process.argv.slice(2, 5).map(Number);
  const room = await openMany(port, clients, '/room', 200, OFFER);
  const sender = await openWebSocket(port, '/send');
  const counters = room.map(() => new FrameCounter());
  const received = new Uint32Array(clients);
  let goal = 0;
  let clientsDone = 0;
  let roundDone: (() => void) | undefined;
  room.forEach(({ socket }, index) => {
    socket.on('data', (chunk: Buffer) => {
      const before = received[index];
      received[index] += counters[index].push(chunk);
      if (before < goal && received[index] >= goal && ++clientsDone === clients) roundDone?.();
    });
  });
  const items = Array.from({ length: 12 }, (_, id) => ({ id, user: `user-${id % 5}`, room: 'general', text: 'ho ho ho, merry everything', likes: id * 3 }));
  const frame = maskedFrame(Opcode.Text, Buffer.from(JSON.stringify(items).slice(0, 1023) + ' '));

  async function round(count: number): Promise<{ seconds: number; cpuShare: number }> {
    clientsDone = 0;
    goal += count;
    const finished = new Promise<void>((resolve) => { roundDone = resolve; });
    const cpu = new CpuMeter();
    const startedAt = performance.now();
    for (let sent = 0; sent < count; sent++) {
      sender.socket.write(frame);
      await nextTurn();
    }
    await finished;
    return { seconds: (performance.now() - startedAt) / 1000, cpuShare: cpu.shareOfOneCore() };
  }

  await round(Math.max(1, messages / 10)); // warm-up
  const measured = await round(messages);
  for (const { socket } of [...room, sender]) socket.destroy();
  report({ type: 'result', ...measured, deliveries: clients * messages });
});
