// The echo server: every message comes back as it came (text as text, binary as binary), on any path.
// The standard target of WebSocket conformance runs, and the server the benchmark measures.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocketConnection, type WebSocketServerOptions } from '../../lib/websocket/index.ts';
import type { TlsCredentials } from '../../lib/http/tls.ts';

export function echo(connection: WebSocketConnection): void {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
}

export interface EchoServer {
  port: number;
  server: Server;
  websockets: WebSocketServer;
  close(): Promise<void>;
}

/** Start an echo server on node:http (node:https, for wss://, when given `tls`). */
export async function startEchoServer(options: { port?: number; host?: string; tls?: TlsCredentials } & WebSocketServerOptions = {}): Promise<EchoServer> {
  const websockets = new WebSocketServer(options);
  const answerPlainHttp = (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    response.end('This is a WebSocket echo server: connect with a WebSocket client.\n');
  };
  const server: Server = options.tls === undefined ? createServer(answerPlainHttp) : createHttpsServer(options.tls, answerPlainHttp);
  server.on('upgrade', (request, socket, head) => {
    const connection = websockets.accept(request, socket, head); // within maxConnections, tracked
    if (connection) echo(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // a port in use or a host that does not resolve: the caller says so
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
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
