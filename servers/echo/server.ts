// The echo server: every message comes back as it came (text as text, binary as binary), on any path.
// The standard target of WebSocket conformance runs, and the server the benchmark measures.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpStack } from '../../lib/http/listen.ts';
import { Router } from '../../lib/http/router.ts';
import { createHttpServer } from '../../lib/http/server.ts';
import { acceptWebSocket, WebSocketServer, type AcceptOptions, type WebSocketConnection } from '../../lib/websocket/index.ts';

export function echo(connection: WebSocketConnection): void {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
}

/** A running echo server on either stack. */
export interface RunningEcho {
  port: number;
  websockets: WebSocketServer;
  close(): Promise<void>;
}

/** On node:http the server itself is exposed too (tests watch its 'upgrade' event). */
export interface EchoServer extends RunningEcho {
  server: Server;
}

export interface EchoServerOptions extends AcceptOptions {
  port?: number;
  host?: string;
  /** 'node' (the default here, for tests that watch node:http's 'upgrade' event) or 'raw', our own HTTP/1.1 server. */
  stack?: HttpStack;
}

/** Start an echo server on node:http or on our raw HTTP server. */
export async function startEchoServer(options?: EchoServerOptions & { stack?: 'node' }): Promise<EchoServer>;
export async function startEchoServer(options: EchoServerOptions): Promise<RunningEcho>;
export async function startEchoServer(options: EchoServerOptions = {}): Promise<RunningEcho | EchoServer> {
  const websockets = new WebSocketServer();
  const accept = (connection: WebSocketConnection): void => {
    websockets.track(connection);
    echo(connection);
  };
  if (options.stack === 'raw') return startOnRawHttp(options, websockets, accept);
  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    response.end('This is a WebSocket echo server: connect with a WebSocket client.\n');
  });
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptWebSocket(request, socket, head, options);
    if (connection) accept(connection);
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

/** Every path is a WebSocket route; a plain GET gets the router's 426 Upgrade Required. */
async function startOnRawHttp(options: EchoServerOptions, websockets: WebSocketServer, accept: (connection: WebSocketConnection) => void): Promise<RunningEcho> {
  const router = new Router().ws('/*path', accept, options);
  const server = createHttpServer({ router });
  const address = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    port: address.port,
    websockets,
    async close() {
      const closing = server.close();
      await websockets.closeAll();
      await closing;
    },
  };
}
