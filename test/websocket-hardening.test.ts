// Hardening of the WebSocket library and the router's WebSocket side (issue 13): memory that follows
// the bytes a peer sent, per-server caps (connections, idle time), header injection in the client,
// refused handshakes reported with status and body, allowed origins, and Upgrade on plain routes.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { acceptWebSocket, connect, HandshakeError, WebSocketServer, type AcceptOptions, type ConnectOptions, type WebSocketConnection } from '../lib/websocket/index.ts';
import { buildFrame, RawWebSocket } from './helpers/raw-websocket.ts';
import { prng, randomBytes } from './helpers/prng.ts';
import { closed, until, waitFor } from './helpers/wait.ts';
import { Router } from '../lib/http/router.ts';
import { createHttpServer } from '../lib/http/server.ts';
import { serveWithNodeHttp } from '../lib/http/node-adapter.ts';
import { EXACT_BELOW_BYTES, MessageAssembler } from '../lib/websocket/message-assembler.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A node:http server whose upgrades go to acceptWebSocket; `accepted` resolves with each connection and its socket. */
async function upgradeServer(options: AcceptOptions = {}): Promise<{ port: number; accepted: Array<Promise<{ connection: WebSocketConnection; socket: Duplex }>> }> {
  const resolvers: Array<(value: { connection: WebSocketConnection; socket: Duplex }) => void> = [];
  const accepted: Array<Promise<{ connection: WebSocketConnection; socket: Duplex }>> = [];
  const server: Server = createServer((_request, response) => response.end());
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const connection = acceptWebSocket(request, socket, head, options);
    if (connection) resolvers.shift()?.({ connection, socket });
  });
  for (let index = 0; index < 64; index++) accepted.push(new Promise((resolve) => resolvers.push(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { port: (server.address() as AddressInfo).port, accepted };
}

describe('memory follows the bytes received, not the lengths claimed', () => {
  test('frame headers claiming 16 MiB with one byte of payload allocate almost nothing', async () => {
    const peers = 8;
    const { port, accepted } = await upgradeServer();
    const clients: RawWebSocket[] = [];
    const sockets: Duplex[] = [];
    cleanups.push(() => clients.forEach((client) => client.destroy()));
    for (let index = 0; index < peers; index++) {
      clients.push(await RawWebSocket.open(port));
      sockets.push((await accepted[index]!).socket);
    }
    // 2 + 8 (64-bit length) + 4 (mask) header bytes, then 1 byte of the 16 MiB announced.
    const claimed = 16 * 1024 * 1024;
    const header = buildFrame({ opcode: 0x2, payload: Buffer.alloc(0) });
    const frame = Buffer.alloc(15);
    frame[0] = 0x82;
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(claimed), 2);
    header.copy(frame, 10, 2, 6); // any mask key will do
    const before = process.memoryUsage().arrayBuffers;
    // The server's own listener runs before ours, so once ours sees the bytes the core has parsed them.
    const parsed = sockets.map((socket) => waitFor(socket, 'data'));
    for (const client of clients) client.write(frame);
    await Promise.all(parsed);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 4 * 1024 * 1024, `${peers} connections holding 15 bytes each grew ArrayBuffer memory by ${grown} bytes`);
  });
});

/** A TCP server that records every byte each connection sends it and answers nothing. */
async function recordingServer(): Promise<{ port: number; received: () => string; connections: () => number }> {
  let bytes = '';
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    socket.on('data', (chunk: Buffer) => { bytes += chunk.toString('latin1'); });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, received: () => bytes, connections: () => count };
}

describe('the message buffer (message-assembler.ts): bounded by what arrived, one buffer for a small split message', () => {
  test('a small message split across reads gets one buffer of its size; a larger claim still grows with the bytes', () => {
    const small = new MessageAssembler(16 * 1024 * 1024);
    small.append(Buffer.alloc(300, 0x61), 1024); // the first 300 bytes of a 1 KiB message: its end is known
    assert.equal(small.retainedBytes, 1024, 'the whole message buffer at once, not twice the first piece');
    small.append(Buffer.alloc(724, 0x62), 1024);
    const whole = small.take();
    assert.equal(whole.length, 1024);
    assert.equal(whole[299], 0x61);
    assert.equal(whole[300], 0x62);
    // The same for a 64 KiB message in two large reads: one buffer of its size, not views joined later.
    const twoReads = new MessageAssembler(16 * 1024 * 1024);
    twoReads.append(Buffer.alloc(40_000, 0x63), EXACT_BELOW_BYTES);
    assert.equal(twoReads.retainedBytes, EXACT_BELOW_BYTES, 'one buffer of the message size from the first read on');
    twoReads.append(Buffer.alloc(EXACT_BELOW_BYTES - 40_000, 0x64), EXACT_BELOW_BYTES);
    const joined = twoReads.take();
    assert.equal(joined.length, EXACT_BELOW_BYTES);
    assert.equal(joined[39_999], 0x63);
    assert.equal(joined[40_000], 0x64);
    // Up to EXACT_BELOW_BYTES a claim costs at most that much; past it, memory follows the bytes received.
    const atTheLine = new MessageAssembler(16 * 1024 * 1024);
    atTheLine.append(Buffer.alloc(1), EXACT_BELOW_BYTES);
    assert.equal(atTheLine.retainedBytes, EXACT_BELOW_BYTES);
    const beyond = new MessageAssembler(16 * 1024 * 1024);
    beyond.append(Buffer.alloc(1), 16 * 1024 * 1024);
    assert.ok(beyond.retainedBytes <= 256, `${beyond.retainedBytes} bytes held for 1 byte received of a 16 MiB claim`);
  });

  test('a large message arriving in socket reads holds those reads, not a growing copy, and is whole and in order', () => {
    // Pieces as a socket hands them over: each read in a buffer of its own size.
    const read = (size: number, fill: number): Buffer => Buffer.alloc(size, fill);
    const assembler = new MessageAssembler(16 * 1024 * 1024);
    const total = 1024 * 1024;
    const pieces = [read(65_526, 1), read(65_536, 2), read(300, 3), read(65_536, 4), read(100, 5)];
    let received = 0;
    for (const piece of pieces) {
      assembler.append(piece, total);
      received += piece.length;
      assert.ok(assembler.retainedBytes <= 2 * received + 256, `${assembler.retainedBytes} bytes held for ${received} received`);
    }
    // Doubling would hold a 256 KiB buffer by now; the reads themselves are 197,000 bytes.
    assert.ok(assembler.retainedBytes < 200_000, `${assembler.retainedBytes} bytes held: the reads, not a growing copy`);
    const whole = assembler.take();
    assert.equal(whole.length, received);
    let offset = 0;
    for (const piece of pieces) {
      assert.ok(whole.subarray(offset, offset + piece.length).equals(piece), `piece ${piece[0]} in place`);
      offset += piece.length;
    }
    assert.equal(assembler.retainedBytes, 0, 'nothing held once taken');
    // A large piece that is a small view of a much larger buffer is copied: keeping it would pin the rest.
    const big = Buffer.alloc(4 * 65_536, 7);
    const pinned = new MessageAssembler(16 * 1024 * 1024);
    pinned.append(Buffer.alloc(10), total);
    pinned.append(big.subarray(0, 65_536), total);
    assert.ok(pinned.retainedBytes < big.length, `${pinned.retainedBytes} bytes held: the large buffer is not pinned`);
  });

  test('2,000 seeded messages in random pieces (views, copies, shared buffers) come out whole, held within twice what arrived (plus a near known end)', () => {
    const random = prng(0x5eed);
    const limit = 1024 * 1024;
    const assembler = new MessageAssembler(limit);
    for (let round = 0; round < 2000; round++) {
      const pieces: Buffer[] = [];
      const count = 1 + random(random(4) === 0 ? 40 : 5);
      let total = 0;
      for (let index = 0; index < count && total < limit; index++) {
        const size = Math.min(limit - total, random(3) === 0 ? random(100_000) : random(2000));
        // Its own buffer (a socket read), or a view into a larger one (a zlib output chunk, a pooled buffer).
        const backing = randomBytes(random, random(3) === 0 ? size + random(3 * size + 1) : size);
        const at = random(backing.length - size + 1);
        pieces.push(backing.subarray(at, at + size));
        total += size;
      }
      // The end is known from the last frame on; here from a random piece on, as frames may split anywhere.
      const knownFrom = random(pieces.length);
      let received = 0;
      for (const [index, piece] of pieces.entries()) {
        assembler.append(piece, index >= knownFrom ? total : 0);
        received += piece.length;
        // Twice what arrived; plus, once the end is known, at most EXACT_BELOW_BYTES claimed ahead.
        const bound = Math.max(2 * received, 256) + (index >= knownFrom ? EXACT_BELOW_BYTES : 0);
        assert.ok(assembler.retainedBytes <= bound, `round ${round}: ${assembler.retainedBytes} held for ${received}`);
      }
      const expected = Buffer.concat(pieces);
      assert.ok(assembler.take().equals(expected), `round ${round}: the message differs`);
    }
  });
});

describe('the client refuses header injection before sending anything', () => {
  const cases: Array<[string, ConnectOptions]> = [
    ['CR LF in a header value', { headers: { 'X-Test': 'a\r\nX-Injected: yes' } }],
    ['a lone LF in a header value', { headers: { 'X-Test': 'a\nX-Injected: yes' } }],
    ['NUL in a header value', { headers: { 'X-Test': 'a\0b' } }],
    ['a header name that is not a token', { headers: { 'X-Injected: yes\r\nX-Test': 'a' } }],
    ['a header name with a space', { headers: { 'X Test': 'a' } }],
    ['CR LF in a subprotocol', { protocols: ['chat\r\nX-Also: injected'] }],
    ['a subprotocol with a comma', { protocols: ['chat, superchat'] }],
    ['an empty subprotocol', { protocols: [''] }],
    ['CR LF in the origin', { origin: 'http://a.example\r\nX-Injected: yes' }],
  ];
  for (const [label, options] of cases) {
    test(label, async () => {
      const server = await recordingServer();
      await assert.rejects(connect(`ws://127.0.0.1:${server.port}/`, { ...options, handshakeTimeoutMs: 2000 }), TypeError);
      // Prove the wire is clean: a valid connect afterwards is the first connection the server sees.
      const valid = connect(`ws://127.0.0.1:${server.port}/`, { headers: { 'X-Test': 'fine' }, protocols: ['chat'], handshakeTimeoutMs: 300 });
      await assert.rejects(valid, /timed out/);
      assert.equal(server.connections(), 1, 'the refused connect opened no connection');
      assert.ok(!server.received().includes('Injected') && !server.received().includes('injected'), server.received());
      assert.ok(server.received().includes('X-Test: fine\r\n'));
    });
  }
});

/** A TCP server that answers every connection with `answer` and then, if asked, keeps it open. */
async function answeringServer(answer: string | Buffer, keepOpen: boolean): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => (keepOpen ? socket.write(answer) : socket.end(answer)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as AddressInfo).port;
}

async function refusal(promise: Promise<unknown>): Promise<HandshakeError> {
  const error = await promise.then(() => assert.fail('the handshake succeeded'), (reason: unknown) => reason);
  assert.ok(error instanceof HandshakeError, String(error));
  return error;
}

describe('a refused handshake reports the status and the server\'s reason', () => {
  test('403 from acceptWebSocket: status, body and a one-line message', async () => {
    const { port } = await upgradeServer({ checkOrigin: () => false });
    const error = await refusal(connect(`ws://127.0.0.1:${port}/`, { origin: 'http://evil.example' }));
    assert.equal(error.statusCode, 403);
    assert.equal(error.body, 'origin not allowed\n');
    assert.equal(error.message, 'server refused: 403 Forbidden — origin not allowed');
  });

  test('a body without Content-Length is read until the server closes', async () => {
    const port = await answeringServer('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\nbad token\r\nsee the docs', false);
    const error = await refusal(connect(`ws://127.0.0.1:${port}/`));
    assert.equal(error.message, 'server refused: 401 Unauthorized — bad token see the docs');
  });

  test('a server that keeps the connection open after a partial body: reported at the handshake timeout with what came', async () => {
    const port = await answeringServer('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\ntoo many', true);
    const error = await refusal(connect(`ws://127.0.0.1:${port}/`, { handshakeTimeoutMs: 300 }));
    assert.equal(error.message, 'server refused: 503 Service Unavailable — too many');
  });

  test('a huge body is cut at 1 KiB', async () => {
    const port = await answeringServer(`HTTP/1.1 404 Not Found\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(100_000)}`, true);
    const error = await refusal(connect(`ws://127.0.0.1:${port}/`));
    assert.equal(error.statusCode, 404);
    assert.equal(error.body, 'x'.repeat(1024));
  });
});

/** A Router served on one of the two stacks; closed after the tests. */
async function serveRouter(router: Router, stack: 'raw' | 'node'): Promise<number> {
  if (stack === 'raw') {
    const server = createHttpServer({ router });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.terminate());
    return port;
  }
  const server = serveWithNodeHttp(router);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return (server.address() as AddressInfo).port;
}

const echo = (connection: WebSocketConnection): void => {
  connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
};

describe('per-server caps', () => {
  test('WebSocketServer maxConnections: one more upgrade is refused with 503; a slot freed by a close is reused', async () => {
    const websockets = new WebSocketServer({ maxConnections: 2 }).route('/', echo);
    const server: Server = createServer((_request, response) => response.end());
    websockets.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      await websockets.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const first = await connect(url);
    await connect(url);
    const error = await refusal(connect(url));
    assert.equal(error.statusCode, 503);
    assert.match(error.message, /503 Service Unavailable — too many WebSocket connections/);
    const firstClosed = closed(first);
    first.close();
    await firstClosed;
    await until(() => websockets.connections.size === 1, undefined, 'the server to forget the closed connection');
    (await connect(url)).close();
  });

  for (const stack of ['raw', 'node'] as const) {
    test(`router on the ${stack} stack: maxConnections counts every ws route together`, async () => {
      const router = new Router({ webSocket: { maxConnections: 1 } }).ws('/a', echo).ws('/b', echo);
      const port = await serveRouter(router, stack);
      const open = await connect(`ws://127.0.0.1:${port}/a`);
      assert.equal((await refusal(connect(`ws://127.0.0.1:${port}/b`))).statusCode, 503);
      const done = closed(open);
      open.close();
      await done;
    });
  }

  test('idleTimeoutMs: no frame either way for that long closes with 1001; traffic postpones it', async () => {
    const idleTimeoutMs = 400;
    const { port, accepted } = await upgradeServer({ idleTimeoutMs });
    const client = await connect(`ws://127.0.0.1:${port}/`);
    const { connection } = await accepted[0]!;
    echo(connection);
    const end = closed(client);
    // Pace one message half-way through the period: it must push the close back.
    await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs / 2));
    const lastSent = Date.now();
    client.send('still here');
    const { code } = await end;
    assert.equal(code, 1001);
    assert.ok(Date.now() - lastSent >= idleTimeoutMs - 20, `closed ${Date.now() - lastSent} ms after the last message`);
  });

  test('without idleTimeoutMs an idle connection stays open', async () => {
    const { port, accepted } = await upgradeServer({});
    const client = await connect(`ws://127.0.0.1:${port}/`);
    const { connection } = await accepted[0]!;
    echo(connection);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reply = waitFor<[Buffer]>(client, 'message');
    client.send('hello');
    assert.equal((await reply)[0].toString(), 'hello');
    client.close();
  });
});

describe('allowed origins (the defence against cross-site WebSocket hijacking)', () => {
  test('acceptWebSocket: exact origins after normalising case and default port; others 403; no Origin passes', async () => {
    const { port } = await upgradeServer({ allowedOrigins: ['HTTPS://Example.COM:443', 'http://localhost:8000'] });
    const url = `ws://127.0.0.1:${port}/`;
    for (const origin of ['https://example.com', 'https://EXAMPLE.com/', 'http://localhost:8000', undefined]) {
      (await connect(url, { origin })).terminate();
    }
    for (const origin of ['https://example.com:8443', 'http://example.com', 'https://evil.example', 'http://localhost:8001', 'null', 'https://example.com.evil.example']) {
      const error = await refusal(connect(url, { origin }));
      assert.equal(error.statusCode, 403, origin);
      assert.equal(error.body, 'origin not allowed\n');
    }
  });

  for (const stack of ['raw', 'node'] as const) {
    test(`router on the ${stack} stack: allowedOrigins for every ws route, or per route`, async () => {
      const router = new Router({ webSocket: { allowedOrigins: ['http://good.example'] } })
        .ws('/everyone', echo)
        .ws('/partner', echo, { allowedOrigins: ['http://partner.example'] });
      const port = await serveRouter(router, stack);
      (await connect(`ws://127.0.0.1:${port}/everyone`, { origin: 'http://good.example' })).terminate();
      assert.equal((await refusal(connect(`ws://127.0.0.1:${port}/everyone`, { origin: 'http://partner.example' }))).statusCode, 403);
      (await connect(`ws://127.0.0.1:${port}/partner`, { origin: 'http://partner.example' })).terminate();
      assert.equal((await refusal(connect(`ws://127.0.0.1:${port}/partner`, { origin: 'http://good.example' }))).statusCode, 403);
    });
  }
});

const PROJECT = fileURLToPath(new URL('..', import.meta.url));

/** Run a program's main as a user would, until `listening` matches its stdout; the first group is the port. */
function startProgram(entry: string, args: string[], listening: RegExp): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, '--port', '0', ...args], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = listening.exec(output);
      if (match) resolve({ port: Number(match[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${output}`)));
  });
}

describe('--allowed-origin on the programs', () => {
  const programs: Array<{ entry: string; listening: RegExp; path: string; extra: string[] }> = [
    { entry: 'servers/echo/main.ts', listening: /listening on ws:\/\/127\.0\.0\.1:(\d+)\//, path: '/', extra: [] },
    { entry: 'servers/poparazzi/main.ts', listening: /stream on ws:\/\/127\.0\.0\.1:(\d+)\//, path: '/', extra: [] },
    { entry: 'servers/north-pole.ts', listening: /listening on http:\/\/127\.0\.0\.1:(\d+)\/[^]*Ctrl-C to stop/, path: '/19/ws/ping', extra: ['--no-chat'] },
  ];
  for (const program of programs) {
    test(`${program.entry}: only the origins given may connect; a page elsewhere gets 403`, async () => {
      const args = [...program.extra, '--allowed-origin', 'http://good.example', '--allowed-origin', 'https://also.example:8443'];
      const { port } = await startProgram(program.entry, args, program.listening);
      const url = `ws://127.0.0.1:${port}${program.path}`;
      (await connect(url, { origin: 'http://good.example' })).terminate();
      (await connect(url, { origin: 'https://also.example:8443' })).terminate();
      assert.equal((await refusal(connect(url, { origin: 'http://evil.example' }))).statusCode, 403);
    });
  }

  test('a value that is not an origin is a usage error (exit 2)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'servers/echo/main.ts', '--allowed-origin', 'example.com/path'], { cwd: PROJECT, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--allowed-origin must be an origin such as https:\/\/example\.com/);
  });
});
