// Child process: the fan-out generator of the scaleout section. One day-19 room (the real server, `npm
// start`) of `clients` connections spread evenly over the given ports (one process each, or one port
// shared by --workers), plus one sender on the first port. It sends small tweets, one per turn of the
// event loop, and times how long until every client has counted every tweet.
// Args: ports (comma-separated), clients, messages.

import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fromParent, report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';
import { FrameCounter, maskedFrame, openMany, openWebSocket, Opcode } from '../wire.ts';

const ROOM = '/19/ws/room/1/user';

runChild(async () => {
  const ports = process.argv[2]!.split(',').map(Number);
  const [clients, messages] = process.argv.slice(3, 5).map(Number) as [number, number];
  const room = (await Promise.all(ports.map((port, index) => {
    const share = Math.floor(clients / ports.length) + (index < clients % ports.length ? 1 : 0);
    return openMany(port, share, `${ROOM}/member`);
  }))).flat();
  const sender = await openWebSocket(ports[0]!, `${ROOM}/sender`);
  sender.socket.on('data', () => {}); // the sender is a member too: read its copies so they never pile up
  const counters = room.map(() => new FrameCounter());
  const received = new Uint32Array(room.length);
  let goal = 0;
  let clientsDone = 0;
  let roundDone: (() => void) | undefined;
  room.forEach(({ socket }, index) => {
    socket.on('data', (chunk: Buffer) => {
      const before = received[index]!;
      received[index] = before + counters[index]!.push(chunk);
      if (before < goal && received[index]! >= goal && ++clientsDone === room.length) roundDone?.();
    });
  });

  const frame = maskedFrame(Opcode.Text, Buffer.from(JSON.stringify({ message: 'a small message!' })));

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

  await round(Math.max(1, Math.round(messages / 10))); // warm-up: connections to Redis, JIT
  // The parent reads the servers' CPU time between 'measuring' and 'go', and again after the result.
  report({ type: 'measuring' });
  await fromParent('go');
  const measured = await round(messages);
  for (const { socket } of [...room, sender]) socket.destroy();
  report({ type: 'result', ...measured, deliveries: room.length * messages });
});
