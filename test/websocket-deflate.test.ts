// permessage-deflate (RFC 7692) on live connections: the framing rules of §6 against the echo server
// through a raw socket, the limits on inflated messages, the handshake on both sides, and interop with
// ws (both roles) and Node's built-in client across the parameters. The codec and the negotiation
// functions have their own unit tests (websocket-deflate-codec, websocket-deflate-negotiation).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { WebSocket as WsClient, WebSocketServer as WsServer, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { acceptWebSocket, broadcast, connect, HandshakeError, PreparedMessage, type WebSocketConnection } from '../lib/websocket/index.ts';
import { sharedZlibLimiter } from '../lib/websocket/permessage-deflate/zlib-limiter.ts';
import { Opcode } from '../lib/websocket/opcodes.ts';
import { Router } from '../lib/http/router.ts';
import { createHttpServer } from '../lib/http/server.ts';
import { registerDay19 } from '../servers/cch19/routes.ts';
import { startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { buildFrame, closeBody, handshakeRequest, RawWebSocket, type FrameSpec } from './helpers/raw-websocket.ts';
import { closed, nextMessage } from './helpers/wait.ts';

const { Text: TEXT, Binary: BINARY, Continuation: CONTINUATION, Close: CLOSE, Ping: PING } = Opcode;
/** RSV1 in a FrameSpec's reservedBits. */
const RSV1 = 4;

/** A message deflated as a sender must (RFC 7692 §7.2.1): raw deflate, sync flush, tail stripped. */
function deflateMessage(data: Buffer | string): Buffer {
  const flushed = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual([...flushed.subarray(-4)], [0, 0, 0xff, 0xff]);
  return flushed.subarray(0, -4);
}

/** The receiving side of §7.2.2: append the tail and inflate. */
function inflateMessage(payload: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Messages a sender compressed with context takeover: each one inflated with the window of those before it. */
function inflateSequence(payloads: Buffer[]): string[] {
  const texts: string[] = [];
  let stream = Buffer.alloc(0);
  let before = 0;
  for (const payload of payloads) {
    stream = Buffer.concat([stream, payload, Buffer.from([0, 0, 0xff, 0xff])]);
    const all = inflateMessage(stream.subarray(0, -4));
    texts.push(all.subarray(before).toString());
    before = all.length;
  }
  return texts;
}

let deflateServer: EchoServer;
let plainServer: EchoServer;
let smallServer: EchoServer;
const rawSockets = new Set<RawWebSocket>();

before(async () => {
  deflateServer = await startEchoServer({ perMessageDeflate: { threshold: 0 }, closeTimeoutMs: 2000 });
  plainServer = await startEchoServer({ closeTimeoutMs: 2000 });
  smallServer = await startEchoServer({ perMessageDeflate: { threshold: 0 }, maxMessageBytes: 64 * 1024, closeTimeoutMs: 2000 });
});
after(async () => {
  for (const raw of rawSockets) raw.destroy();
  await Promise.all([deflateServer.close(), plainServer.close(), smallServer.close()]);
});

/** A raw client that offered permessage-deflate; returns the server's Sec-WebSocket-Extensions answer too. */
async function openRaw(server: EchoServer, offer = 'permessage-deflate; client_max_window_bits'): Promise<{ raw: RawWebSocket; extensions: string | undefined }> {
  const raw = await RawWebSocket.tcp(server.port);
  rawSockets.add(raw);
  raw.write(handshakeRequest('/', 'dGhlIHNhbXBsZSBub25jZQ==', { 'Sec-WebSocket-Extensions': offer }));
  const answer = await raw.readHttpAnswer();
  assert.equal(answer.statusCode, 101);
  return { raw, extensions: answer.headers['sec-websocket-extensions'] };
}

async function expectClose(server: EchoServer, frames: FrameSpec[], code: number): Promise<void> {
  const { raw } = await openRaw(server);
  for (const frame of frames) raw.sendFrame(frame);
  const result = await raw.closeAndEnd();
  assert.equal(result.code, code, `close code (reason: ${result.reason})`);
}

describe('RFC 7692 §6: where RSV1 may appear', () => {
  test('negotiated: a compressed message on one frame is inflated and echoed, compressed (RSV1)', async () => {
    const { raw, extensions } = await openRaw(deflateServer);
    assert.equal(extensions, 'permessage-deflate');
    raw.sendFrame({ opcode: TEXT, reservedBits: RSV1, payload: deflateMessage('héllo, deflate') });
    const echo = await raw.frame(0);
    assert.equal(echo.reservedBits, RSV1);
    assert.equal(inflateMessage(echo.payload).toString(), 'héllo, deflate');
    raw.sendFrame({ opcode: CLOSE, payload: closeBody(1000) });
    assert.equal((await raw.closeAndEnd()).code, 1000);
  });

  test('negotiated: a compressed message in three fragments, RSV1 on the first only, with a ping between', async () => {
    const { raw } = await openRaw(deflateServer);
    const payload = deflateMessage(Buffer.alloc(5000, 'abcdef'));
    const third = Math.floor(payload.length / 3);
    raw.sendFrame({ opcode: BINARY, reservedBits: RSV1, fin: false, payload: payload.subarray(0, third) });
    raw.sendFrame({ opcode: PING, payload: 'between' });
    raw.sendFrame({ opcode: CONTINUATION, fin: false, payload: payload.subarray(third, 2 * third) });
    raw.sendFrame({ opcode: CONTINUATION, payload: payload.subarray(2 * third) });
    const frames = await raw.framesUntil(2);
    const echo = frames.find((frame) => frame.opcode === BINARY)!;
    assert.deepEqual(inflateMessage(echo.payload), Buffer.alloc(5000, 'abcdef'));
    raw.destroy();
  });

  test('negotiated: an uncompressed message (RSV1 clear) is still a plain message', async () => {
    const { raw } = await openRaw(deflateServer);
    raw.sendFrame({ opcode: TEXT, payload: 'plain' });
    const echo = await raw.frame(0);
    assert.equal(inflateMessage(echo.payload).toString(), 'plain');
    raw.destroy();
  });

  test('RSV1 on a continuation frame → 1002', () =>
    expectClose(deflateServer, [{ opcode: TEXT, reservedBits: RSV1, fin: false, payload: deflateMessage('ab').subarray(0, 1) }, { opcode: CONTINUATION, reservedBits: RSV1, payload: deflateMessage('ab').subarray(1) }], 1002));
  test('RSV1 on a ping → 1002', () => expectClose(deflateServer, [{ opcode: PING, reservedBits: RSV1 }], 1002));
  test('RSV1 on a close → 1002', () => expectClose(deflateServer, [{ opcode: CLOSE, reservedBits: RSV1, payload: closeBody(1000) }], 1002));
  test('RSV2 and RSV3 stay errors when deflate is negotiated → 1002', async () => {
    await expectClose(deflateServer, [{ opcode: TEXT, reservedBits: 2, payload: 'x' }], 1002);
    await expectClose(deflateServer, [{ opcode: TEXT, reservedBits: RSV1 | 1, payload: deflateMessage('x') }], 1002);
  });
  test('RSV1 when nothing was negotiated → 1002', async () => {
    const { raw, extensions } = await openRaw(plainServer);
    assert.equal(extensions, undefined, 'a server without the option declines');
    raw.sendFrame({ opcode: TEXT, reservedBits: RSV1, payload: deflateMessage('x') });
    assert.equal((await raw.closeAndEnd()).code, 1002);
  });
});

describe('RFC 7692 §7.2.2: inflating within limits', () => {
  test('a payload that does not inflate → 1007', () => expectClose(deflateServer, [{ opcode: BINARY, reservedBits: RSV1, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]) }], 1007));

  test('inflated text that is not UTF-8 → 1007', () => expectClose(deflateServer, [{ opcode: TEXT, reservedBits: RSV1, payload: deflateMessage(Buffer.from([0x61, 0xff, 0x62])) }], 1007));

  test('a zip bomb: 1 KiB-ish of compressed zeros inflating far past maxMessageBytes → 1009', async () => {
    const bomb = deflateMessage(Buffer.alloc(16 * 1024 * 1024));
    assert.ok(bomb.length < 32 * 1024, `bomb is ${bomb.length} bytes`);
    await expectClose(smallServer, [{ opcode: BINARY, reservedBits: RSV1, payload: bomb }], 1009);
  });

  test('exactly maxMessageBytes inflated is accepted', async () => {
    const { raw } = await openRaw(smallServer);
    raw.sendFrame({ opcode: BINARY, reservedBits: RSV1, payload: deflateMessage(Buffer.alloc(64 * 1024, 1)) });
    const echo = await raw.frame(0);
    assert.equal(inflateMessage(echo.payload).length, 64 * 1024);
    raw.destroy();
  });

  test('messages stay in order: compressed, plain, compressed, then a close answered after the echoes', async () => {
    const { raw } = await openRaw(deflateServer);
    raw.write(Buffer.concat([
      buildFrame({ opcode: TEXT, reservedBits: RSV1, payload: deflateMessage('one '.repeat(1000)) }),
      buildFrame({ opcode: TEXT, payload: 'two' }),
      buildFrame({ opcode: TEXT, reservedBits: RSV1, payload: deflateMessage('three') }),
      buildFrame({ opcode: CLOSE, payload: closeBody(1000) }),
    ]));
    const result = await raw.closeAndEnd();
    assert.equal(result.code, 1000);
    const texts = inflateSequence(raw.frames.filter((frame) => frame.opcode === TEXT).map((frame) => frame.payload));
    assert.deepEqual(texts, ['one '.repeat(1000), 'two', 'three']);
  });
});

describe('releasing zlib state', () => {
  test('a connection cut in the middle of inflating a large message gives its zlib slot and state back', async () => {
    const { raw } = await openRaw(deflateServer);
    const serverSide = new Promise<WebSocketConnection>((resolve) => setImmediate(() => resolve([...deflateServer.websockets.connections].at(-1)!)));
    const connection = await serverSide;
    const gone = closed(connection);
    // 8 MiB of varied bytes: many threadpool trips to inflate; the socket is cut right after sending.
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let index = 0; index < big.length; index++) big[index] = (index * 2654435761) >>> 24;
    raw.sendFrame({ opcode: BINARY, reservedBits: RSV1, payload: deflateMessage(big) });
    raw.destroy();
    const result = await gone;
    assert.equal(result.code, 1006);
    const limiter = sharedZlibLimiter();
    const deadline = Date.now() + 5000;
    while ((limiter.active > 0 || limiter.queued > 0) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limiter.active, 0, 'no zlib job left running');
    assert.equal(limiter.queued, 0);
  });
});

describe('broadcast: compressed once for every member without context takeover', () => {
  test('members that agreed to server_no_context_takeover get the very same compressed bytes; one that did not gets the plain frame', async () => {
    const accepted: WebSocketConnection[] = [];
    const server = createServer();
    server.on('upgrade', (request, socket, head) => {
      const connection = acceptWebSocket(request, socket, head, { perMessageDeflate: { threshold: 16 } });
      if (connection) accepted.push(connection);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const open = async (offer: string) => {
      const raw = await RawWebSocket.tcp(port);
      rawSockets.add(raw);
      raw.write(handshakeRequest('/', 'dGhlIHNhbXBsZSBub25jZQ==', { 'Sec-WebSocket-Extensions': offer }));
      return { raw, extensions: (await raw.readHttpAnswer()).headers['sec-websocket-extensions'] };
    };
    try {
      const first = await open('permessage-deflate; server_no_context_takeover');
      const second = await open('permessage-deflate; server_no_context_takeover');
      const keeper = await open('permessage-deflate');
      assert.equal(first.extensions, 'permessage-deflate; server_no_context_takeover');
      const tweet = JSON.stringify({ author: 'santa', text: 'ho ho ho, '.repeat(20), likes: 0 });
      const message = new PreparedMessage(tweet);
      assert.equal(broadcast(accepted, message), 3);
      const [a, b, c] = await Promise.all([first.raw.frame(0), second.raw.frame(0), keeper.raw.frame(0)]);
      assert.equal(a.reservedBits, RSV1);
      assert.ok(a.payload.equals(b.payload), 'the same compressed bytes');
      assert.ok(a.payload.length < Buffer.byteLength(tweet) / 2, `compressed to ${a.payload.length} bytes`);
      assert.equal(inflateMessage(a.payload).toString(), tweet);
      assert.equal(message.compressedFrame(15), message.compressedFrame(15), 'compressed once, then reused');
      assert.equal(c.reservedBits, 0, 'a member whose window carries over gets the plain frame');
      assert.equal(c.payload.toString(), tweet);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});

describe('the bird app rooms with perMessageDeflate', () => {
  test('members that offer deflate get every tweet compressed, the same frame for all of them', async () => {
    const router = new Router();
    const day19 = registerDay19(router, { perMessageDeflate: true, pages: false });
    const server = createHttpServer({ router });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const members = await Promise.all(['alice', 'bob'].map((user) => connect(`ws://127.0.0.1:${port}/19/ws/room/7/user/${user}`, { perMessageDeflate: true })));
      assert.equal(members[0].extensions, 'permessage-deflate; server_no_context_takeover');
      const inboxes = members.map((member) => nextMessage(member));
      members[0].send(JSON.stringify({ message: 'ho ho ho '.repeat(14) }));
      for (const inbox of await Promise.all(inboxes)) assert.deepEqual(JSON.parse(inbox.text), { user: 'alice', message: 'ho ho ho '.repeat(14) });
      for (const member of members) member.close();
      await Promise.all(members.map((member) => closed(member)));
    } finally {
      await day19.close();
      server.terminate();
    }
  });
});

describe('the handshake', () => {
  test('the server picks the first acceptable offer and answers its parameters', async () => {
    const { extensions } = await openRaw(deflateServer, 'permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=10; client_no_context_takeover');
    assert.equal(extensions, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=10');
  });

  test('a malformed Sec-WebSocket-Extensions header → 400', async () => {
    const raw = await RawWebSocket.tcp(deflateServer.port);
    rawSockets.add(raw);
    raw.write(handshakeRequest('/', 'dGhlIHNhbXBsZSBub25jZQ==', { 'Sec-WebSocket-Extensions': 'permessage-deflate; =' }));
    assert.equal((await raw.readHttpAnswer()).statusCode, 400);
  });

  test('our client: off by default (no offer), and with perMessageDeflate the agreement is visible', async () => {
    const plain = await connect(`ws://127.0.0.1:${deflateServer.port}/`);
    assert.equal(plain.extensions, '');
    plain.close();
    const compressed = await connect(`ws://127.0.0.1:${deflateServer.port}/`, { perMessageDeflate: { serverNoContextTakeover: true } });
    assert.equal(compressed.extensions, 'permessage-deflate; server_no_context_takeover');
    compressed.close();
    await Promise.all([closed(plain), closed(compressed)]);
  });

  /** A server answering the upgrade with a Sec-WebSocket-Extensions value of our choosing. */
  async function answeringServer(extensions: string): Promise<{ url: string; close(): void }> {
    const server = createServer();
    server.on('upgrade', (request, socket) => {
      const accept = createHash('sha1').update(request.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
  }

  for (const [answer, why] of [
    ['permessage-deflate; server_max_window_bits=16', 'a window outside 8–15'],
    ['permessage-deflate; x-unknown', 'a parameter we did not offer'],
    ['x-webkit-deflate-frame', 'an extension we did not offer'],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'a repeated parameter'],
    ['permessage-deflate; client_max_window_bits', 'client_max_window_bits without a value'],
  ]) {
    test(`our client fails the handshake on ${why}`, async () => {
      const server = await answeringServer(answer);
      try {
        await assert.rejects(connect(server.url, { perMessageDeflate: true }), HandshakeError);
      } finally {
        server.close();
      }
    });
  }

  test('our client without the option fails on any extension in the answer', async () => {
    const server = await answeringServer('permessage-deflate');
    try {
      await assert.rejects(connect(server.url), /did not offer/);
    } finally {
      server.close();
    }
  });
});

// ── Interop ─────────────────────────────────────────────────────────────────────────────────────

interface Combination {
  label: string;
  ours: { serverNoContextTakeover?: boolean; clientNoContextTakeover?: boolean; serverMaxWindowBits?: number; clientMaxWindowBits?: number };
}

/** Context takeover on/off both ways, and every window size 9–15 (8 is refused by zlib's raw deflater in ws). */
const COMBINATIONS: Combination[] = [
  { label: 'context takeover both ways', ours: {} },
  { label: 'no context takeover either way', ours: { serverNoContextTakeover: true, clientNoContextTakeover: true } },
  { label: 'server no context takeover only', ours: { serverNoContextTakeover: true } },
  { label: 'client no context takeover only', ours: { clientNoContextTakeover: true } },
  ...[9, 10, 11, 12, 13, 14, 15].map((bits) => ({ label: `window bits ${bits} both ways`, ours: { serverMaxWindowBits: bits, clientMaxWindowBits: bits } })),
];

function wsOptions(ours: Combination['ours']): WsDeflateOptions {
  return { threshold: 0, ...ours };
}

const JSON_LIKE = JSON.stringify(Array.from({ length: 40 }, (_, index) => ({ id: index, user: `user-${index % 7}`, text: 'The quick brown fox jumps over the lazy dog', likes: index * 3 })));
const MEBIBYTE = Buffer.alloc(1024 * 1024);
for (let index = 0; index < MEBIBYTE.length; index++) MEBIBYTE[index] = (index * 7 + (index >> 10)) & 0xff;

/** The five messages each interop test sends, as they must come back. */
function assertEchoes(received: Array<{ data: Buffer; isBinary: boolean }>): void {
  assert.deepEqual(received.map((message) => message.isBinary), [false, false, true, false, true]);
  assert.equal(received[0].data.toString(), 'small text');
  assert.equal(received[1].data.toString(), JSON_LIKE);
  assert.ok(received[2].data.equals(MEBIBYTE));
  assert.equal(received[3].data.toString(), JSON_LIKE);
  assert.deepEqual([...received[4].data], [1, 2, 3, 4, 5]);
}

describe('interop: ws client against our server', () => {
  for (const combination of COMBINATIONS) {
    test(combination.label, async () => {
      const server = await startEchoServer({ perMessageDeflate: { threshold: 0, ...combination.ours } });
      try {
        const client = new WsClient(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: wsOptions(combination.ours) });
        await once(client, 'open');
        assert.match(client.extensions, /^permessage-deflate/);
        const received: Array<{ data: Buffer; isBinary: boolean }> = [];
        client.on('message', (data, isBinary) => received.push({ data: data as Buffer, isBinary }));
        client.send('small text');
        client.send(JSON_LIKE);
        client.send(MEBIBYTE);
        client.send(JSON_LIKE);
        client.send(Buffer.from([1, 2, 3]), { fin: false });
        client.send(Buffer.from([4, 5]), { fin: true });
        const deadline = Date.now() + 10_000;
        while (received.length < 5 && Date.now() < deadline) await once(client, 'message');
        assertEchoes(received);
        client.close(1000);
        await once(client, 'close');
      } finally {
        await server.close();
      }
    });
  }
});

describe('interop: our client against a ws server', () => {
  for (const combination of COMBINATIONS) {
    test(combination.label, async () => {
      const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: wsOptions(combination.ours) });
      server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
      await once(server, 'listening');
      try {
        const client = await connect(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, { perMessageDeflate: { threshold: 0, ...combination.ours } });
        assert.match(client.extensions, /^permessage-deflate/);
        const echoes = collect(client, 5);
        client.send('small text');
        client.send(JSON_LIKE);
        client.send(MEBIBYTE);
        client.send(JSON_LIKE);
        client.sendFragments([Buffer.from([1, 2, 3]), Buffer.from([4, 5])]);
        const received = await echoes;
        assertEchoes(received);
        client.close();
        await closed(client);
      } finally {
        server.close();
      }
    });
  }
});

function collect(connection: WebSocketConnection, count: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  return new Promise((resolve, reject) => {
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} messages`)), 10_000);
    connection.on('message', (data, isBinary) => {
      received.push({ data, isBinary });
      if (received.length === count) {
        clearTimeout(timer);
        resolve(received);
      }
    });
  });
}

describe("interop: Node's built-in client against our server", () => {
  const needsFlag = Number(process.versions.node.split('.')[0]) < 22;
  const script = `
    const print = (value) => console.log(JSON.stringify(value));
    const socket = new WebSocket(process.argv[1]);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      print({ kind: 'open', extensions: socket.extensions });
      socket.send('héllo '.repeat(500));
      socket.send(new Uint8Array(1024 * 1024).fill(7));
    };
    let count = 0;
    socket.onmessage = (event) => {
      count++;
      if (typeof event.data === 'string') print({ kind: 'text', length: event.data.length, ok: event.data === 'héllo '.repeat(500) });
      else print({ kind: 'binary', length: event.data.byteLength, sum: new Uint8Array(event.data).reduce((a, b) => a + b, 0) });
      if (count === 2) socket.close(1000);
    };
    socket.onclose = (event) => print({ kind: 'close', code: event.code });
  `;

  for (const combination of [COMBINATIONS[0], COMBINATIONS[1], COMBINATIONS[6]]) {
    test(combination.label, async () => {
      const server = await startEchoServer({ perMessageDeflate: { threshold: 0, ...combination.ours } });
      const child = spawn(process.execPath, [...(needsFlag ? ['--experimental-websocket'] : []), '--no-warnings', '-e', script, `ws://127.0.0.1:${server.port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const killTimer = setTimeout(() => child.kill(), 15_000);
      try {
        const lines: Array<Record<string, unknown>> = [];
        for await (const line of createInterface({ input: child.stdout! })) lines.push(JSON.parse(line));
        assert.equal(lines[0].kind, 'open');
        assert.match(String(lines[0].extensions), /^permessage-deflate/, 'undici negotiated the extension');
        assert.deepEqual(lines.slice(1), [
          { kind: 'text', length: 3000, ok: true },
          { kind: 'binary', length: 1024 * 1024, sum: 7 * 1024 * 1024 },
          { kind: 'close', code: 1000 },
        ]);
      } finally {
        clearTimeout(killTimer);
        child.kill();
        await server.close();
      }
    });
  }
});
