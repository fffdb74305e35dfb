// Child process: a broadcast room with permessage-deflate on, every member having agreed to
// server_no_context_takeover, every message compressed (threshold 0). The client on /send is the sender.
// `ours` broadcasts a PreparedMessage: compressed once, the same frame to everyone. `ws` loops over its
// clients calling send, which compresses once per client (it has no shared compressor).

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { acceptWebSocket, broadcast, PreparedMessage, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { report, runChild } from '../processes.ts';

const PARAMETERS = { threshold: 0, serverNoContextTakeover: true } as const;

runChild(async () => {
  const kind = process.argv[2];
  const port = kind === 'ours' ? await startOurRoom() : await startWsRoom();
  report({ type: 'ready', port });
});

async function startOurRoom(): Promise<number> {
  const room = new Set<WebSocketConnection>();
  const server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptWebSocket(request, socket, head, { perMessageDeflate: PARAMETERS });
    if (!connection) return;
    if (request.url === '/send') {
      connection.on('message', (data, isBinary) => broadcast(room, new PreparedMessage(data, { binary: isBinary })));
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
  const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0, serverNoContextTakeover: true } });
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
