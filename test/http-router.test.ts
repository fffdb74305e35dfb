import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router, type RouteRequest } from '../lib/http/router.ts';
import { json, text } from '../lib/http/responses.ts';
import { createHttpServer } from '../lib/http/server.ts';
import { serveWithNodeHttp } from '../lib/http/node-adapter.ts';
import { connect } from '../lib/websocket/client.ts';
import { within } from './http-test-helpers.ts';
import { RawWebSocket } from './helpers/raw-websocket.ts';

function buildRouter(): Router {
  return new Router()
    .get('/', () => text('home'))
    .get('/posts/:id/views', (request) => json({ id: request.params.id }))
    .get('/posts/new/views', () => text('static wins'))
    .post('/posts/:id/views', (request) => json({ posted: request.body.toString(), id: request.params.id }, 201))
    .delete('/posts/:id/views', () => ({ status: 204 }))
    .get('/static/*rest', (request) => text(`file ${request.params.rest}`))
    .get('/async', async (request) => text(`async ${request.query.get('n')}`))
    .get('/throws', () => {
      throw new Error('route failure on purpose');
    })
    .get('/rejects', async () => {
      throw new Error('async route failure on purpose');
    })
    .ws('/headers', (connection, request) => {
      const headers = request.headers;
      connection.send(JSON.stringify({ prototype: Object.getPrototypeOf(headers), proto: headers['__proto__'], toString: typeof headers.toString, host: headers['host'] }));
    })
    .ws('/room/:room/user/:user', (connection, request) => {
      connection.on('message', (data) => connection.send(`${request.params.user} in ${request.params.room}: ${data.toString()}`));
    }, {
      beforeUpgrade: (request) => (/^\d+$/.test(request.params.room!) ? undefined : text('no such room', 404)),
    });
}

interface Stack { name: string; port: number; close(): Promise<void> }

async function rawStack(): Promise<Stack> {
  const server = createHttpServer({ router: buildRouter() });
  const { port } = await server.listen(0, '127.0.0.1');
  return { name: 'raw', port, close: async () => server.terminate() };
}

async function nodeStack(): Promise<Stack> {
  const server = serveWithNodeHttp(buildRouter());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    name: 'node:http', port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

const stacks = await Promise.all([rawStack(), nodeStack()]);
after(async () => {
  for (const stack of stacks) await stack.close();
});

/** method, path, expected status, expected body (or a check), expected headers */
const table: { method: string; path: string; status: number; body?: string; headers?: Record<string, string> }[] = [
  { method: 'GET', path: '/', status: 200, body: 'home' },
  { method: 'GET', path: '/missing', status: 404, body: '404 Not Found\n' },
  { method: 'PUT', path: '/posts/7/views', status: 405, headers: { allow: 'GET, POST, DELETE, HEAD' } },
  { method: 'HEAD', path: '/posts/7/views', status: 200, body: '', headers: { 'content-length': '10' } },
  { method: 'GET', path: '/posts/caf%C3%A9%20au%20lait/views', status: 200, body: '{"id":"café au lait"}' },
  { method: 'GET', path: '/posts/new/views', status: 200, body: 'static wins' },
  { method: 'GET', path: '/posts/%E0%A4%A/views', status: 400 },
  { method: 'POST', path: '/posts/9/views', status: 201, body: '{"posted":"payload","id":"9"}' },
  { method: 'DELETE', path: '/posts/9/views', status: 204, body: '' },
  { method: 'GET', path: '/static/css/site.css', status: 200, body: 'file css/site.css' },
  { method: 'GET', path: '/async?n=42', status: 200, body: 'async 42' },
  { method: 'GET', path: '/throws', status: 500 },
  { method: 'GET', path: '/rejects', status: 500 },
  { method: 'GET', path: '/room/1/user/ann', status: 426, headers: { upgrade: 'websocket' } },
  { method: 'POST', path: '/room/1/user/ann', status: 405, headers: { allow: 'GET' } },
];

for (const stack of stacks) {
  test(`router on the ${stack.name} stack: routing table`, async () => {
    const original = console.error;
    const logged: string[] = [];
    console.error = (...args: unknown[]) => { logged.push(args.join(' ')); };
    try {
      for (const row of table) {
        const response = await fetch(`http://127.0.0.1:${stack.port}${row.path}`, {
          method: row.method, body: row.method === 'POST' ? 'payload' : undefined,
        });
        const body = await response.text();
        const label = `${row.method} ${row.path}`;
        assert.equal(response.status, row.status, label);
        if (row.body !== undefined) assert.equal(body, row.body, label);
        for (const [name, value] of Object.entries(row.headers ?? {})) assert.equal(response.headers.get(name), value, `${label} ${name}`);
      }
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 2, 'one log line per failed handler');
  });

  /** Ask for `Upgrade: websocket` on `path`; resolves with the HTTP answer when it is not a 101. */
  const upgrade = (path: string, method = 'GET') => within(new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request({
      port: stack.port, host: '127.0.0.1', path, method,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('upgrade', (_response, socket) => { socket.destroy(); reject(new Error('unexpected 101')); });
    request.on('error', reject);
    request.end();
  }), 3000, `upgrade answer for ${method} ${path}`);

  test(`router on the ${stack.name} stack: Upgrade on a path with no WebSocket route is ignored, the HTTP route answers (RFC 9110 §7.8)`, async () => {
    assert.deepEqual(await upgrade('/async?n=7'), { status: 200, body: 'async 7' });
    assert.deepEqual(await upgrade('/posts/3/views'), { status: 200, body: '{"id":"3"}' });
    assert.equal((await upgrade('/posts/3/views', 'PUT')).status, 405);
  });

  test(`router on the ${stack.name} stack: WebSocket routes get headers in a prototype-less object`, async () => {
    const raw = await RawWebSocket.open(stack.port, '/headers', JSON.parse('{"__proto__": "polluted"}') as Record<string, string>);
    try {
      const seen = JSON.parse((await raw.frame(0)).payload.toString()) as Record<string, unknown>;
      assert.deepEqual(seen, { prototype: null, proto: 'polluted', toString: 'undefined', host: 'localhost' });
    } finally {
      raw.destroy();
    }
  });

  test(`router on the ${stack.name} stack: refused upgrades are complete HTTP responses`, async () => {
    assert.equal((await upgrade('/nowhere')).status, 404, 'no ws route');
    assert.deepEqual(await upgrade('/room/lobby/user/ann'), { status: 404, body: 'no such room' }, 'beforeUpgrade refusal');
    assert.equal((await upgrade('/room/%E0%A4%A/user/ann')).status, 400, 'malformed escape');
  });

  test(`router on the ${stack.name} stack: a WebSocket route upgrades and exchanges messages`, async () => {
    const connection = await within(connect(`ws://127.0.0.1:${stack.port}/room/19/user/bea%20t`), 3000, 'the handshake');
    const reply = new Promise<string>((resolve) => connection.once('message', (data) => resolve(data.toString())));
    connection.send('hi');
    assert.equal(await within(reply, 3000, 'the reply'), 'bea t in 19: hi');
    const closed = new Promise<void>((resolve) => connection.on('close', () => resolve()));
    connection.close();
    await within(closed, 3000, 'the close');
  });
}

test('router.handle() directly: 404, 405 + Allow, HEAD falls back to GET, params decoded', async () => {
  const router = buildRouter();
  const request = (method: string, path: string): Omit<RouteRequest, 'params'> =>
    ({ method, path, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
  assert.equal((await router.handle(request('GET', '/nope'))).status, 404);
  const notAllowed = await router.handle(request('PATCH', '/'));
  assert.equal(notAllowed.status, 405);
  assert.equal(notAllowed.headers?.['allow'], 'GET, HEAD');
  assert.equal((await router.handle(request('HEAD', '/'))).body, 'home');
  assert.equal((await router.handle(request('GET', '/posts/a%2Fb/views'))).body, '{"id":"a/b"}');
  assert.equal((await router.handle(request('GET', '/static'))).status, 404, 'a wildcard needs the slash');
  assert.throws(() => router.get('/', () => text('again')), /already registered/);
});
