// Child process: the fan-out generator. Opens a room of raw client connections and one sender, sends
// small text messages — paced (one write per turn of the event loop) or in one burst — and times how
// long until every client has counted every message. With a fifth argument `deflate`, the room offers
// permessage-deflate with server_no_context_takeover and the message is 1 KiB of JSON-like text (the
// counter reads frame headers only, so compressed payloads cost the generator nothing).

import { setImmediate as nextTurn } from 'node:timers/promises';
import { FanoutRounds } from '../fanout-rounds.ts';
import { report, runChild } from '../processes.ts';
import { maskedFrame, openMany, openWebSocket, Opcode, repeated } from '../wire.ts';

runChild(async () => {
  const [port, clients, messages] = process.argv.slice(2, 5).map(Number);
  const paced = process.argv[5] !== 'burst';
  const deflate = process.argv[6] === 'deflate';
  const room = await openMany(port, clients, '/room', 200, deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' : '');
  const sender = await openWebSocket(port, '/send');
  const rounds = new FanoutRounds(room);
  const frame = maskedFrame(Opcode.Text, deflate ? jsonLikeKibibyte() : Buffer.from('a small message!'));

  /** Send `count` messages; resolve when every client has them all. */
  const round = (count: number) => rounds.round(count, async () => {
    if (!paced) {
      sender.socket.write(repeated(frame, count));
      return;
    }
    for (let sent = 0; sent < count; sent++) {
      sender.socket.write(frame);
      await nextTurn();
    }
  });

  await round(Math.max(1, messages / 10)); // warm-up
  const measured = await round(messages);
  for (const { socket } of [...room, sender]) socket.destroy();
  report({ type: 'result', ...measured, deliveries: clients * messages });
});

/** 1 KiB of chat-like JSON: repeated keys, varying values. */
function jsonLikeKibibyte(): Buffer {
  const items = Array.from({ length: 12 }, (_, id) => ({ id, user: `user-${id % 5}`, room: 'general', text: 'ho ho ho, merry everything', likes: id * 3 }));
  return Buffer.from(JSON.stringify(items).slice(0, 1023) + ' ');
}
