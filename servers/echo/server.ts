// The echo server: every message comes back as it came (text as text, binary as binary), on any path.
// The standard target of WebSocket conformance runs, and the server the benchmark measures.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocketConnection, type WebSocketServerOptions } from '../../lib/websocket/index.ts';

export function echo(connection: WebSocketConnection): void {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
}

export interface EchoServer {
  port: number;
  server: Server;
  websockets: WebSocketServer;
  close(): Promise<void>;
}

/** Start an echo server on node:http. */
export async function startEchoServer(options: { port?: number; host?: string } & WebSocketServerOptions = {}): Promise<EchoServer> {
  const websockets = new WebSocketServer(options);
  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    response.end('This is a WebSocket echo server: connect with a WebSocket client.\n');
  });
  server.on('upgrade', (request, socket, head) => {
    const connection = websockets.accept(request, socket, head); // within maxConnections, tracked
    if (connection) echo(connection);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    websockets,
    async close() {
      server.close();
      await websockets.closeAll();
    },
  };
}
