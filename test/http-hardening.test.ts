// Defects found by review (issue 13): handler status codes, timing under slow clients and pipelining,
// memory under tiny chunks. Each test failed before its fix; most run on both stacks (ours and node:http).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Router } from '../lib/http/router.ts';
import { text } from '../lib/http/responses.ts';
import { listenRouter, type HttpStack, type RunningRouter } from '../lib/http/listen.ts';
import { createHttpServer, type HttpServerOptions } from '../lib/http/server.ts';
import { quietly, RawClient, within } from './http-test-helpers.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../lib/http/limits.ts';

const running: RunningRouter[] = [];
after(async () => {
  await Promise.all(running.map((server) => server.close()));
});

async function serve(router: Router, stack: HttpStack): Promise<number> {
  const server = await listenRouter(router, 0, '127.0.0.1', stack);
  running.push(server);
  return server.port;
}

/** The raw server alone, for what only it has (its own request and idle timeouts). */
async function serveRaw(options: HttpServerOptions): Promise<number> {
  const server = createHttpServer(options);
  running.push({ port: 0, close: () => { server.terminate(); return server.close(); } });
  return (await server.listen(0, '127.0.0.1')).port;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const STACKS: HttpStack[] = ['raw', 'node'];

for (const stack of STACKS) {
  test(`${stack} stack: a handler status outside 200–599 is answered 500, and the next pipelined request still pairs up`, async () => {
    const router = new Router()
      .get('/status/:code', (request) => ({ status: Number(request.params.code), body: 'from handler' }))
      .get('/ok', () => text('ok'));
    const port = await serve(router, stack);
    const { result: statuses, logged } = await quietly(async () => {
      const client = await RawClient.connect(port);
      const seen: number[] = [];
      for (const code of ['100', '101', '199', '600', '1000', '99', '200.5']) {
        client.write(`GET /status/${code} HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n`);
        seen.push((await client.readResponse()).status);
        const next = await client.readResponse();
        assert.equal(next.body.toString(), 'ok', `the request after status ${code} gets its own answer`);
      }
      client.write('GET /status/599 HTTP/1.1\r\nHost: a\r\n\r\n');
      seen.push((await client.readResponse()).status);
      client.destroy();
      return seen;
    });
    assert.deepEqual(statuses, [500, 500, 500, 500, 500, 500, 500, 599]);
    assert.equal(logged.length, 7, logged.join('\n'));
  });
}

test('raw stack: each pipelined request gets its own request-timeout clock, even when one read ends a request and starts the next', async () => {
  const requestTimeoutMs = 500;
  const port = await serveRaw({ router: new Router().get('/', () => text('ok')), timeouts: { requestTimeoutMs } });
  const client = await RawClient.connect(port);
  // Every write finishes the request in flight and begins the next, so the server is never between requests.
  // The pause is the client's pace (the behaviour under test), far below the timeout; the whole run is 3× it.
  client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n');
  for (let step = 0; step < 15; step++) {
    assert.equal((await client.readResponse()).status, 200, `request ${step}`);
    await pause(requestTimeoutMs / 5);
    client.write('Host: a\r\n\r\nGET / HTTP/1.1\r\n');
  }
  assert.equal((await client.readResponse()).status, 200);
  // The last request stays incomplete: its own clock still runs out.
  assert.equal((await client.readResponse()).status, 408);
  client.destroy();
});

for (const stack of STACKS) {
  test(`${stack} stack: a body of a million 1-byte chunks costs memory near its size, not per chunk`, async () => {
    // The server runs in its own process, so only its memory is measured (see helpers/memory-probe-server.ts).
    // A small young generation keeps short-lived garbage from passing for held memory.
    const child = spawn(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', 'tsx',
      'test/helpers/memory-probe-server.ts', stack], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [firstLine] = await within(once(child.stdout!, 'data'), 20_000, 'the probe server to start') as [Buffer];
      const port = Number(firstLine.toString().trim());
      const chunkCount = 1_000_000; // 1,000,000 data bytes: inside the default 1 MiB body limit
      assert.ok(chunkCount <= DEFAULT_MAX_BODY_BYTES);
      const request = Buffer.from('POST /length HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '1\r\nX\r\n'.repeat(chunkCount) + '0\r\n\r\n', 'latin1');
      const connections = 2;
      const answers = await Promise.all(Array.from({ length: connections }, async () => {
        const client = await RawClient.connect(port);
        client.write(request);
        const response = await client.readResponse({ timeoutMs: 120_000 }); // minutes only on a very loaded machine
        client.destroy();
        return `${response.status} ${response.body.toString()}`;
      }));
      assert.deepEqual(answers, Array(connections).fill(`200 ${chunkCount}`));
      const probe = await RawClient.connect(port);
      probe.write('GET /peak HTTP/1.1\r\nHost: a\r\n\r\n');
      const { growthBytes } = JSON.parse((await probe.readResponse({ timeoutMs: 30_000 })).body.toString()) as { growthBytes: number };
      probe.destroy();
      // Each connection may hold its body while it grows (old and new buffer, 1.5×) plus socket reads in flight and
      // young garbage: measured 3.3 MiB for one, 8 MiB for three; 6× the limit each leaves room for noise. Before the fix: 360–580 MiB.
      const bound = connections * 6 * DEFAULT_MAX_BODY_BYTES;
      assert.ok(growthBytes < bound, `peak growth ${(growthBytes / 2 ** 20).toFixed(1)} MiB for ${connections} connections (bound ${bound / 2 ** 20} MiB)`);
    } finally {
      child.kill('SIGTERM');
    }
  });
}

test('raw stack: a slow client that keeps reading gets the whole large response; one that stops reading is cut off', async () => {
  const bodyBytes = 8 * 1024 * 1024;
  const body = Buffer.alloc(bodyBytes, 0x61);
  // The kernel wakes a blocked writer only after a good part of its send buffer drained, so progress is seen in
  // steps of a few MB: the send timeout must outlast one such step at the client's pace (~0.7 s here).
  const timeouts = { keepAliveTimeoutMs: 150, sendTimeoutMs: 2_500 };
  const port = await serveRaw({ router: new Router().get('/big', () => ({ body })), timeouts });

  const slowDownload = (async () => {
    const slow = await RawClient.connect(port);
    slow.socket.on('data', () => {
      slow.socket.pause();
      setTimeout(() => slow.socket.resume(), 10); // the client's reading pace, the behaviour under test
    });
    slow.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    const startedAt = Date.now();
    const response = await slow.readResponse({ timeoutMs: 60_000 });
    slow.destroy();
    return { response, elapsedMs: Date.now() - startedAt };
  })();

  // A client that reads nothing more: the server gives up after the send timeout instead of holding 8 MiB.
  // A paused client cannot see the server hang up, so watch from the server: its close() resolves once the
  // connection is gone (a connection still owed bytes is otherwise waited for).
  const stalledServer = createHttpServer({ router: new Router().get('/big', () => ({ body })), timeouts });
  const stalledPort = (await stalledServer.listen(0, '127.0.0.1')).port;
  const stalled = await RawClient.connect(stalledPort);
  const firstBytes = new Promise<void>((resolve) => stalled.socket.once('data', () => { stalled.socket.pause(); resolve(); }));
  stalled.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
  await within(firstBytes, 10_000, 'the first bytes of the response');
  await within(stalledServer.close(), 20_000, 'the server to drop a client that stopped reading');
  stalled.destroy();

  const { response, elapsedMs } = await slowDownload;
  assert.equal(response.status, 200);
  assert.equal(response.body.length, bodyBytes);
  // The scenario really happened: the server had bytes queued for many keep-alive timeouts in a row.
  assert.ok(elapsedMs > 4 * timeouts.keepAliveTimeoutMs, `download took only ${elapsedMs} ms`);
});

test('raw stack: an upgrade pipelined behind responses that fill a whole write batch is still handed over', async () => {
  const page = Buffer.alloc(40 * 1024, 0x63); // two of these pass the 64 KiB batch, so the rest waits for 'drain'
  const router = new Router()
    .get('/page', () => ({ body: page }))
    .ws('/ws', (connection) => connection.send('hi'));
  const port = await serveRaw({ router });
  const client = await RawClient.connect(port);
  client.write('GET /page HTTP/1.1\r\nHost: a\r\n\r\nGET /page HTTP/1.1\r\nHost: a\r\n\r\n' +
    'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.equal((await client.readResponse()).body.length, page.length);
  assert.equal((await client.readResponse()).body.length, page.length);
  assert.equal((await client.readResponse()).status, 101);
  // The WebSocket side now owns the socket: its first message arrives as an unmasked text frame.
  while (client.leftover.length < 4) await within(once(client.socket, 'data'), 10_000, 'the first WebSocket frame');
  assert.deepEqual([...client.leftover.subarray(0, 4)], [0x81, 0x02, 0x68, 0x69]);
  client.destroy();
});
