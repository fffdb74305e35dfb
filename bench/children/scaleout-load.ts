// Child process: the fan-out generator of the scaleout section. One day-19 room (the real server, `npm
// start`) of `clients` connections spread evenly over the given ports (one process each, or one port
// shared by --workers), plus one sender on the first port. It sends small tweets, one per turn of the
// event loop, and times how long until every client has counted every tweet.
// Args: ports (comma-separated), clients, messages.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { FanoutRounds } from '../fanout-rounds.ts';
import { fromParent, report, runChild } from '../processes.ts';
import { maskedFrame, openMany, openWebSocket, Opcode } from '../wire.ts';

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
  const rounds = new FanoutRounds(room);
  const frame = maskedFrame(Opcode.Text, Buffer.from(JSON.stringify({ message: 'a small message!' })));

  const round = (count: number) => rounds.round(count, async () => {
    for (let sent = 0; sent < count; sent++) {
      sender.socket.write(frame);
      await nextTurn();
    }
  });

  await round(Math.max(1, Math.round(messages / 10))); // warm-up: connections to Redis, JIT
  // The parent reads the servers' CPU time between 'measuring' and 'go', and again after the result.
  report({ type: 'measuring' });
  await fromParent('go');
  const measured = await round(messages);
  for (const { socket } of [...room, sender]) socket.destroy();
  report({ type: 'result', ...measured, deliveries: room.length * messages });
});
