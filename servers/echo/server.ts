// The echo server: every message comes back as it came (text as text, binary as binary), on any path.
// The standard target of WebSocket conformance runs, and the server the benchmark measures.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HttpStack } from '../../lib/http/listen.ts';
import { Router } from '../../lib/http/router.ts';
import { createHttpServer } from '../../lib/http/server.ts';
import type { TlsCredentials } from '../../lib/http/tls.ts';
import { WebSocketServer, type WebSocketConnection, type WebSocketServerOptions } from '../../lib/websocket/index.ts';

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

export interface EchoServerOptions extends WebSocketServerOptions {
  port?: number;
  host?: string;
  /** Serve wss:// (node:https, or our server over node:tls) with this certificate and key. */
  tls?: TlsCredentials;
  /** 'node' (the default here, for tests that watch node:http's 'upgrade' event) or 'raw', our own HTTP/1.1 server. */
  stack?: HttpStack;
}

/** Start an echo server on node:http or on our raw HTTP server. */
export async function startEchoServer(options?: EchoServerOptions & { stack?: 'node' }): Promise<EchoServer>;
export async function startEchoServer(options: EchoServerOptions): Promise<RunningEcho>;
export async function startEchoServer(options: EchoServerOptions = {}): Promise<RunningEcho | EchoServer> {
  if (options.stack === 'raw') return startOnRawHttp(options);
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

/** Every path is a WebSocket route; a plain GET gets the router's 426 Upgrade Required. */
async function startOnRawHttp(options: EchoServerOptions): Promise<RunningEcho> {
  const router = new Router({ webSocket: options }).ws('/*path', echo);
  const server = createHttpServer({ router, tls: options.tls });
  const address = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    port: address.port,
    websockets: router.webSockets,
    async close() {
      const closing = server.close();
      await router.webSockets.closeAll();
      await closing;
    },
  };
}
