// Child process: one HTTP server under test, answering GET / with "Hello, World!".
// raw: lib/http/server.ts with a plain handler · node: a bare node:http handler · router-node: our Router
// on node:http · router-raw: our Router on the raw server · cch19: the day-19 routes on the raw server.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveWithNodeHttp } from '../../lib/http/node-adapter.ts';
import { Router } from '../../lib/http/router.ts';
import { createHttpServer } from '../../lib/http/server.ts';
import { report, runChild } from '../processes.ts';

const BODY = 'Hello, World!';
const HEADERS = { 'content-type': 'text/plain; charset=utf-8' };

runChild(async () => {
  const kind = process.argv[2];
  report({ type: 'ready', port: await start(kind) });
});

async function start(kind: string): Promise<number> {
  if (kind === 'raw') {
    const server = createHttpServer({ handler: () => ({ status: 200, headers: HEADERS, body: BODY }) });
    return (await server.listen(0, '127.0.0.1')).port;
  }
  if (kind === 'router-raw') {
    const server = createHttpServer({ router: helloRouter() });
    return (await server.listen(0, '127.0.0.1')).port;
  }
  if (kind === 'cch19') {
    const { registerDay19 } = await import('../../servers/cch19/routes.ts');
    const router = new Router();
    registerDay19(router, { pages: false });
    const server = createHttpServer({ router });
    return (await server.listen(0, '127.0.0.1')).port;
  }
  const server = kind === 'router-node'
    ? serveWithNodeHttp(helloRouter())
    : http.createServer((_request, response) => {
      response.writeHead(200, { ...HEADERS, 'content-length': Buffer.byteLength(BODY) });
      response.end(BODY);
    });
  if (kind !== 'router-node' && kind !== 'node') throw new Error(`unknown HTTP server kind ${kind}`);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function helloRouter(): Router {
  return new Router().get('/', () => ({ status: 200, headers: HEADERS, body: BODY }));
}
