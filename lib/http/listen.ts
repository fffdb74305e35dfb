// Start a Router listening on either HTTP stack: ours (server.ts, over node:net) or node:http
// (node-adapter.ts). One call for programs that let the user pick the stack; no RFC of its own.

import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { attachRouter, serveWithNodeHttp } from './node-adapter.ts';
import type { Router } from './router.ts';
import { createHttpServer } from './server.ts';
import type { TlsCredentials } from './tls.ts';

export type HttpStack = 'raw' | 'node';

export interface RunningRouter {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stop accepting; idle keep-alive connections are closed, busy ones finish their response. */
  close(): Promise<void>;
}

/** Serve `router` on `stack`; with `tls`, over https:// and wss:// instead of http:// and ws://. */
export async function listenRouter(router: Router, port: number, host: string, stack: HttpStack = 'raw', tls?: TlsCredentials): Promise<RunningRouter> {
  if (stack === 'raw') {
    const server = createHttpServer({ router, tls });
    const address = await server.listen(port, host);
    return { port: address.port, close: () => server.close() };
  }
  const server = tls === undefined ? serveWithNodeHttp(router) : attachRouter(createHttpsServer(tls), router);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
