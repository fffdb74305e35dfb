import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Router } from '../lib/http/router.ts';
import { json, text } from '../lib/http/responses.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { startHello } from '../servers/hello-http/app.ts';
import { quietly, RawClient, within } from './http-test-helpers.ts';

const run = promisify(execFile);

/** Run curl with `input` on its stdin (for bodies too large for the command line). */
function curlWithInput(args: string[], input: string): Promise<{ stdout: string; stderr: string }> {
  const running = run('curl', args, { maxBuffer: 1 << 22 });
  running.child.stdin!.end(input);
  return running;
}

/** Lets a test decide when each handler answers, so async handlers can finish out of order without sleeps. */
class Gate {
  open!: () => void;
  readonly opened = new Promise<void>((resolve) => { this.open = resolve; });
  reached!: () => void;
  readonly handlerWaiting = new Promise<void>((resolve) => { this.reached = resolve; });
}
const gates = new Map<string, Gate>();
function gateFor(name: string): Gate {
  let gate = gates.get(name);
  if (gate === undefined) gates.set(name, gate = new Gate());
  return gate;
}
function gate(name: string): Promise<void> {
  const found = gateFor(name);
  found.reached();
  return found.opened;
}

const router = new Router()
  .get('/', () => text('hello'))
  .post('/echo', (request) => ({ status: 200, headers: { 'content-type': request.headers['content-type'] ?? 'application/octet-stream' }, body: request.body }))
  .get('/json', (request) => json({ query: request.query.get('q') }))
  .get('/slow/:name', async (request) => {
    await gate(request.params.name!);
    return text(`slow ${request.params.name}`);
  })
  .get('/throws', () => {
    throw new Error('handler failure on purpose');
  })
  .get('/bad-header', () => ({ headers: { 'x-split': 'a\r\nInjected: yes' }, body: 'no' }));

const servers: HttpServer[] = [];
async function start(options: Parameters<typeof createHttpServer>[0] = { router }): Promise<{ server: HttpServer; port: number; url: string }> {
  const server = createHttpServer(options);
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, url: `http://127.0.0.1:${port}` };
}
after(() => {
  for (const server of servers) server.terminate();
});

test('curl: GET, HEAD, POST and connection reuse against the raw server', async () => {
  const { url } = await start();
  const get = await run('curl', ['-sS', '-i', `${url}/`]);
  assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(get.stdout, /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
  assert.match(get.stdout, /\r\nContent-Length: 5\r\n/);
  assert.ok(get.stdout.endsWith('\r\n\r\nhello'));

  const head = await run('curl', ['-sS', '-I', `${url}/`]);
  assert.match(head.stdout, /\r\nContent-Length: 5\r\n/);
  assert.ok(head.stdout.endsWith('\r\n\r\n'), 'HEAD has no body');

  const post = await run('curl', ['-sS', '-H', 'content-type: text/plain', '--data-binary', 'ping pong', `${url}/echo`]);
  assert.equal(post.stdout, 'ping pong');

  const reuse = await run('curl', ['-sS', '-v', `${url}/`, `${url}/json?q=again`]);
  assert.equal(reuse.stdout, 'hello{"query":"again"}');
  assert.match(reuse.stderr, /Re-using existing connection/);
});

test('curl: a chunked upload, and an upload that waits for 100 Continue', async () => {
  const { url } = await start();
  const chunked = await run('curl', ['-sS', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'sent in chunks', `${url}/echo`]);
  assert.equal(chunked.stdout, 'sent in chunks');
  const large = 'x'.repeat(200_000);
  const expect = await curlWithInput(['-sS', '-v', '-H', 'Expect: 100-continue', '--data-binary', '@-', `${url}/echo`], large);
  assert.equal(expect.stdout.length, large.length);
  assert.match(expect.stderr, /HTTP\/1\.1 100 Continue/);
});

test('fetch and http.request with a keep-alive Agent reuse one socket', async () => {
  const { url } = await start();
  const response = await fetch(`${url}/json?q=caf%C3%A9`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await response.json(), { query: 'café' });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets: unknown[] = [];
  const bodies: string[] = [];
  for (let index = 0; index < 3; index++) {
    await within(new Promise<void>((resolve, reject) => {
      const request = http.request(`${url}/`, { agent }, (incoming) => {
        sockets.push(incoming.socket);
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => { body += chunk; });
        incoming.on('end', () => { bodies.push(body); resolve(); });
      });
      request.on('error', reject);
      request.end();
    }), 3000, 'http.request');
  }
  agent.destroy();
  assert.deepEqual(bodies, ['hello', 'hello', 'hello']);
  assert.equal(sockets[1], sockets[0], 'second request reused the socket');
  assert.equal(sockets[2], sockets[0], 'third request reused the socket');
});

test('pipelined requests are answered in order even when async handlers finish out of order', async () => {
  const { port } = await start();
  const client = await RawClient.connect(port);
  client.write('GET /slow/first HTTP/1.1\r\nHost: a\r\n\r\nGET /slow/second HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await within(Promise.all([gateFor('first').handlerWaiting, gateFor('second').handlerWaiting]), 2000, 'both handlers to start');
  gateFor('second').open();
  gateFor('first').open();
  const bodies = [];
  for (let index = 0; index < 3; index++) bodies.push((await client.readResponse()).body.toString());
  assert.deepEqual(bodies, ['slow first', 'slow second', 'hello']);
  client.destroy();
});

test('Connection: close and HTTP/1.0 close after the response; HTTP/1.0 keep-alive stays open', async () => {
  const { port } = await start();
  const closing = await RawClient.connect(port);
  closing.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const first = await closing.readResponse();
  assert.equal(first.headers['connection'], 'close');
  await closing.waitForEnd();

  const old = await RawClient.connect(port);
  old.write('GET / HTTP/1.0\r\n\r\n');
  assert.equal((await old.readResponse()).body.toString(), 'hello');
  await old.waitForEnd();

  const kept = await RawClient.connect(port);
  kept.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.equal((await kept.readResponse()).headers['connection'], 'keep-alive');
  kept.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.equal((await kept.readResponse()).status, 200);
  assert.equal(kept.ended, false);
  kept.destroy();
});

test('HEAD gets Content-Length of the GET body and no body bytes', async () => {
  const { port } = await start();
  const client = await RawClient.connect(port);
  client.write('HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const head = await client.readResponse({ headOnly: true });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5');
  const get = await client.readResponse();
  assert.equal(get.body.toString(), 'hello', 'the next response starts right after the HEAD head');
  client.destroy();
});

const protocolErrors: [string, string, number][] = [
  ['garbage', 'HELLO\r\n\r\n', 400],
  ['smuggling: Content-Length with Transfer-Encoding', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['an unknown transfer coding', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br, chunked\r\n\r\n', 501],
  ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
  ['a body over 1 MiB', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n', 413],
  ['a 9000-byte target', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  ['a 20 KiB header', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
];

test('protocol errors get their status code, then the connection closes', async () => {
  const { port } = await start();
  for (const [name, input, status] of protocolErrors) {
    const client = await RawClient.connect(port);
    client.write(input);
    const response = await client.readResponse();
    assert.equal(response.status, status, name);
    assert.equal(response.headers['connection'], 'close', name);
    await client.waitForEnd();
  }
  const stillServing = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(await stillServing.text(), 'hello');
});

test('a request that stalls mid-header gets 408 after the request timeout (slowloris)', async () => {
  const { port } = await start({ router, timeouts: { requestTimeoutMs: 150 } });
  const client = await RawClient.connect(port);
  const started = Date.now();
  client.write('GET / HTTP/1.1\r\nHost: a\r\nX-Drip: 1');
  const response = await client.readResponse();
  assert.equal(response.status, 408);
  assert.ok(Date.now() - started >= 150, 'not before the timeout');
  await client.waitForEnd();
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
  const { port } = await start({ router, timeouts: { keepAliveTimeoutMs: 150 } });
  const client = await RawClient.connect(port);
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal((await client.readResponse()).status, 200);
  await client.waitForEnd();
  assert.equal(client.leftover.length, 0, 'closed silently, without a 408');
});

test('a throwing handler gets 500 and one log line; the server keeps serving', async () => {
  const { url } = await start();
  const { result, logged } = await quietly(async () => {
    const failed = await fetch(`${url}/throws`);
    const headerInjection = await fetch(`${url}/bad-header`);
    return { failed: failed.status, headerInjection: headerInjection.status, injected: headerInjection.headers.get('injected') };
  });
  assert.deepEqual(result, { failed: 500, headerInjection: 500, injected: null });
  assert.equal(logged.length, 2);
  assert.match(logged[0]!, /handler failure on purpose/);
  assert.equal(await (await fetch(`${url}/`)).text(), 'hello');
});

test('close() closes idle keep-alive sockets and resolves', async () => {
  const { server, port } = await start();
  const client = await RawClient.connect(port);
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await client.readResponse();
  await within(server.close(), 2000, 'close()');
  await client.waitForEnd();
});

test('the hello server echoes the request, HTML-escaped, on the raw stack', async () => {
  const hello = await startHello({ port: 0 });
  try {
    const client = await RawClient.connect(hello.port);
    client.write('GET /?who=<script> HTTP/1.1\r\nHost: a\r\nX-Lesson: "quoted" & <b>\r\n\r\n');
    const response = await client.readResponse();
    client.destroy();
    const page = response.body.toString();
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page, /Hello, World!/);
    assert.match(page, /GET \/\?who=&lt;script&gt; HTTP\/1\.1/);
    assert.match(page, /x-lesson: &quot;quoted&quot; &amp; &lt;b&gt;/);
  } finally {
    await hello.close();
  }
});
