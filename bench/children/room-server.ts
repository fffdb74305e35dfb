// Child process: a broadcast room under test. Clients on any path join the room; the client on /send
// is the sender, and every message it sends goes to everyone in the room.
// `ours` frames each message once (broadcast + PreparedMessage); `ws` loops over its clients calling send.
// With a second argument `deflate`, both accept permessage-deflate with server_no_context_takeover and
// compress every message: ours once per broadcast (PreparedMessage.compressedFrame), ws once per client.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { acceptWebSocket, broadcast, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { report, runChild } from '../processes.ts';

/** The permessage-deflate parameters of the `deflate` variant, the same on both servers. */
const DEFLATE = process.argv[3] === 'deflate' ? { threshold: 0, serverNoContextTakeover: true } : undefined;

runChild(async () => {
  const kind = process.argv[2];
  const port = kind === 'ours' ? await startOurRoom() : await startWsRoom();
  report({ type: 'ready', port });
});

async function startOurRoom(): Promise<number> {
  const room = new Set<WebSocketConnection>();
  const server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptWebSocket(request, socket, head, { perMessageDeflate: DEFLATE });
    if (!connection) return;
    if (request.url === '/send') {
      connection.on('message', (data, isBinary) => broadcast(room, data, { binary: isBinary }));
    } else {
      room.add(connection);
      connection.once('close', () => room.delete(connection));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startWsRoom(): Promise<number> {
  const room = new Set<WsSocket>();
  const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: DEFLATE ?? false });
  server.on('connection', (socket, request) => {
    if (request.url === '/send') {
      socket.on('message', (data, isBinary) => {
        for (const client of room) client.send(data, { binary: isBinary });
      });
    } else {
      room.add(socket);
      socket.once('close', () => room.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}
