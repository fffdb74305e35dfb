// Child process: the fan-out generator. Opens a room of raw client connections and one sender, sends
// small text messages — paced (one write per turn of the event loop) or in one burst — and times how
// long until every client has counted every message.

import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';
import { FrameCounter, maskedFrame, openMany, openWebSocket, Opcode, repeated } from '../wire.ts';

runChild(async () => {
  const [port, clients, messages] = process.argv.slice(2, 5).map(Number);
  const paced = process.argv[5] !== 'burst';
  const room = await openMany(port, clients, '/room');
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

  const frame = maskedFrame(Opcode.Text, Buffer.from('a small message!'));

  /** Send `count` messages; resolve when every client has them all. */
  async function round(count: number): Promise<{ seconds: number; cpuShare: number }> {
    clientsDone = 0;
    goal += count;
    const finished = new Promise<void>((resolve) => { roundDone = resolve; });
    const cpu = new CpuMeter();
    const startedAt = performance.now();
    if (paced) {
      for (let sent = 0; sent < count; sent++) {
        sender.socket.write(frame);
        await nextTurn();
      }
    } else {
      sender.socket.write(repeated(frame, count));
    }
    await finished;
    return { seconds: (performance.now() - startedAt) / 1000, cpuShare: cpu.shareOfOneCore() };
  }

  await round(Math.max(1, messages / 10)); // warm-up
  const measured = await round(messages);
  for (const { socket } of [...room, sender]) socket.destroy();
  report({ type: 'result', ...measured, deliveries: clients * messages });
});
