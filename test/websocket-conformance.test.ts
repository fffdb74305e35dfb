// RFC 6455 conformance of the server side, organised by rule: a real echo server (servers/echo) driven
// through a raw node:net socket with hand-built frames. Every failure case asserts the exact close
// code AND that the server ended TCP. The last section drives the sans-I/O core with no socket at all.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { acceptKey } from '../lib/websocket/index.ts';
import { checkUpgradeRequest } from '../lib/websocket/handshake.ts';
import { ProtocolEventKind, WebSocketProtocol, type CloseInfo, type ProtocolOutput, type Role } from '../lib/websocket/protocol.ts';
import { WebSocketError } from '../lib/websocket/errors.ts';
import { buildFrame, closeBody, expectedAccept, handshakeRequest, parseFrames, RawWebSocket, type FrameSpec } from './helpers/raw-websocket.ts';

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

const SMALL_LIMITS = { maxMessageBytes: 1000, maxFragments: 10 };

let echoServer: EchoServer;
let limitedServer: EchoServer;
const openSockets = new Set<RawWebSocket>();

before(async () => {
  echoServer = await startEchoServer({ closeTimeoutMs: 2000 });
  limitedServer = await startEchoServer({ ...SMALL_LIMITS, closeTimeoutMs: 2000 });
});

after(async () => {
  for (const raw of openSockets) raw.destroy();
  await Promise.all([echoServer.close(), limitedServer.close()]);
});

async function open(server: EchoServer = echoServer): Promise<RawWebSocket> {
  const raw = await RawWebSocket.open(server.port);
  openSockets.add(raw);
  return raw;
}

/** Send frames (or raw bytes) and expect the server to answer with a close of `code`, then end TCP. */
async function expectClose(sends: Array<FrameSpec | Buffer>, code: number, server?: EchoServer): Promise<void> {
  const raw = await open(server);
  for (const item of sends) raw.write(Buffer.isBuffer(item) ? item : buildFrame(item));
  const result = await raw.closeAndEnd();
  assert.equal(result.code, code, `close code (reason: ${result.reason})`);
  assert.equal(raw.ended, true, 'TCP ended');
  assert.equal(result.framesAfterClose, 0, 'nothing after the close frame');
  raw.destroy();
}

/** Send frames, expect these echoes (opcode and payload) in order, then close cleanly. */
async function expectEchoes(sends: FrameSpec[], echoes: Array<{ opcode: number; payload: Buffer | string }>, server?: EchoServer): Promise<RawWebSocket> {
  const raw = await open(server);
  for (const spec of sends) raw.sendFrame(spec);
  const frames = await raw.framesUntil(echoes.length);
  frames.forEach((frame, index) => {
    const expected = echoes[index];
    assert.equal(frame.opcode, expected.opcode, `frame ${index} opcode`);
    assert.equal(frame.masked, false, 'server frames are never masked');
    assert.ok(frame.payload.equals(Buffer.from(expected.payload)), `frame ${index} payload (${frame.payload.length} bytes)`);
  });
  return raw;
}

/** Complete the close handshake from the client side and check the server's echo and TCP end. */
async function closeCleanly(raw: RawWebSocket): Promise<void> {
  raw.sendFrame({ opcode: CLOSE, payload: closeBody(1000) });
  const result = await raw.closeAndEnd();
  assert.equal(result.code, 1000);
  raw.destroy();
}

describe('framing (§5.2): payload lengths across the 7/16/64-bit forms are echoed exactly', () => {
  for (const length of [0, 125, 126, 127, 128, 65535, 65536]) {
    test(`binary payload of ${length} bytes`, async () => {
      const payload = Buffer.alloc(length);
      for (let index = 0; index < length; index++) payload[index] = (index * 7 + 3) & 0xff;
      const raw = await expectEchoes([{ opcode: BINARY, payload }], [{ opcode: BINARY, payload }]);
      await closeCleanly(raw);
    });
  }

  test('text comes back as text, several frames in one TCP write in order', async () => {
    const raw = await open();
    raw.write(Buffer.concat(['one', 'two', 'three'].map((text) => buildFrame({ opcode: TEXT, payload: text }))));
    const frames = await raw.framesUntil(3);
    assert.deepEqual(frames.map((frame) => [frame.opcode, frame.payload.toString()]), [[TEXT, 'one'], [TEXT, 'two'], [TEXT, 'three']]);
    await closeCleanly(raw);
  });

  test('a frame fed one byte per TCP write is still understood', async () => {
    const raw = await open();
    const frame = buildFrame({ opcode: TEXT, payload: 'slowly' });
    for (const byte of frame) {
      raw.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [echo] = await raw.framesUntil(1);
    assert.equal(echo.payload.toString(), 'slowly');
    await closeCleanly(raw);
  });

  test('an unmasked frame from a client → 1002 (§5.1)', () => expectClose([{ opcode: TEXT, payload: 'no mask', mask: false }], 1002));
});

describe('ping and pong (§5.5.2, §5.5.3)', () => {
  test('a ping is answered with a pong carrying the same payload', async () => {
    const raw = await expectEchoes([{ opcode: PING, payload: 'are you there' }], [{ opcode: PONG, payload: 'are you there' }]);
    await closeCleanly(raw);
  });

  test('an empty ping and a 125-byte ping are answered', async () => {
    const big = Buffer.alloc(125, 0x5a);
    const raw = await expectEchoes([{ opcode: PING }, { opcode: PING, payload: big }], [{ opcode: PONG, payload: '' }, { opcode: PONG, payload: big }]);
    await closeCleanly(raw);
  });

  test('a 126-byte ping → 1002', () => expectClose([{ opcode: PING, payload: Buffer.alloc(126) }], 1002));

  test('an unsolicited pong is ignored', async () => {
    const raw = await expectEchoes([{ opcode: PONG, payload: 'unasked' }, { opcode: TEXT, payload: 'after' }], [{ opcode: TEXT, payload: 'after' }]);
    assert.equal(raw.frames.length, 1, 'no answer to the pong');
    await closeCleanly(raw);
  });
});

describe('reserved bits and opcodes (§5.2)', () => {
  for (const [name, bits] of [['RSV1', 4], ['RSV2', 2], ['RSV3', 1]] as const) {
    test(`${name} set → 1002`, () => expectClose([{ opcode: TEXT, payload: 'x', reservedBits: bits }], 1002));
  }
  test('RSV bits on a ping → 1002', () => expectClose([{ opcode: PING, reservedBits: 7 }], 1002));
  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    test(`reserved opcode ${opcode} → 1002`, () => expectClose([{ opcode, payload: 'x' }], 1002));
  }
  test('a valid message before a reserved opcode is still echoed', async () => {
    const raw = await open();
    raw.sendFrame({ opcode: TEXT, payload: 'first' });
    raw.sendFrame({ opcode: 5 });
    const result = await raw.closeAndEnd();
    assert.equal(raw.frames[0].payload.toString(), 'first');
    assert.equal(result.code, 1002);
    raw.destroy();
  });
});

describe('fragmentation (§5.4)', () => {
  test('a text message in three fragments is echoed whole', async () => {
    const raw = await expectEchoes(
      [
        { opcode: TEXT, payload: 'frag', fin: false },
        { opcode: CONTINUATION, payload: 'men', fin: false },
        { opcode: CONTINUATION, payload: 'ted', fin: true },
      ],
      [{ opcode: TEXT, payload: 'fragmented' }],
    );
    await closeCleanly(raw);
  });

  test('a ping between fragments is answered at once, before the message completes', async () => {
    const raw = await open();
    raw.sendFrame({ opcode: TEXT, payload: 'Hel', fin: false });
    raw.sendFrame({ opcode: PING, payload: 'mid' });
    const pong = await raw.frame(0);
    assert.equal(pong.opcode, PONG);
    assert.equal(pong.payload.toString(), 'mid');
    assert.equal(raw.frames.length, 1, 'no message yet');
    raw.sendFrame({ opcode: CONTINUATION, payload: 'lo' });
    const message = await raw.frame(1);
    assert.equal(message.opcode, TEXT);
    assert.equal(message.payload.toString(), 'Hello');
    await closeCleanly(raw);
  });

  test('empty fragments are fine', async () => {
    const raw = await expectEchoes(
      [{ opcode: BINARY, fin: false }, { opcode: CONTINUATION, fin: false }, { opcode: CONTINUATION, payload: 'x' }],
      [{ opcode: BINARY, payload: 'x' }],
    );
    await closeCleanly(raw);
  });

  test('a continuation with no message to continue → 1002', () => expectClose([{ opcode: CONTINUATION, payload: 'orphan' }], 1002));

  test('a new data frame inside a fragmented message → 1002', () =>
    expectClose([{ opcode: TEXT, payload: 'a', fin: false }, { opcode: TEXT, payload: 'b' }], 1002));

  test('a fragmented ping → 1002', () => expectClose([{ opcode: PING, payload: 'a', fin: false }], 1002));
  test('a fragmented close → 1002', () => expectClose([{ opcode: CLOSE, payload: closeBody(1000), fin: false }], 1002));

  test('4 MiB in 64-byte fragments is accepted and echoed', async () => {
    const total = 4 * 1024 * 1024;
    const message = Buffer.alloc(total);
    for (let index = 0; index < total; index++) message[index] = index & 0xff;
    const frames: Buffer[] = [];
    for (let offset = 0; offset < total; offset += 64) {
      frames.push(buildFrame({ opcode: offset === 0 ? BINARY : CONTINUATION, payload: message.subarray(offset, offset + 64), fin: offset + 64 >= total, maskKey: Buffer.from([1, 2, 3, 4]) }));
    }
    const raw = await open();
    raw.write(Buffer.concat(frames));
    const [echo] = await raw.framesUntil(1, 20_000);
    assert.equal(echo.payload.length, total);
    assert.ok(echo.payload.equals(message));
    await closeCleanly(raw);
  });
});

describe('UTF-8 in text messages (§8.1)', () => {
  test('valid text, including a code point split across two fragments, is echoed', async () => {
    const text = Buffer.from('κόσμε 😀');
    const cut = text.indexOf(Buffer.from('😀')) + 2; // inside the four-byte emoji
    const raw = await expectEchoes(
      [{ opcode: TEXT, payload: text.subarray(0, cut), fin: false }, { opcode: CONTINUATION, payload: text.subarray(cut) }],
      [{ opcode: TEXT, payload: text }],
    );
    await closeCleanly(raw);
  });

  test('invalid UTF-8 in one frame → 1007', () => expectClose([{ opcode: TEXT, payload: Buffer.from([0x68, 0xed, 0xa0, 0x80]) }], 1007));

  test('invalid UTF-8 in a later fragment → 1007', () =>
    expectClose([{ opcode: TEXT, payload: 'fine', fin: false }, { opcode: CONTINUATION, payload: Buffer.from([0xc0, 0xaf]) }], 1007));

  test('a message ending inside a character → 1007', () =>
    expectClose([{ opcode: TEXT, payload: Buffer.from([0x41, 0xe2, 0x82]) }], 1007));

  test('binary messages are never checked for UTF-8', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]);
    const raw = await expectEchoes([{ opcode: BINARY, payload: bytes }], [{ opcode: BINARY, payload: bytes }]);
    await closeCleanly(raw);
  });

  test('fail fast: the 1007 arrives while the rest of the frame has not been sent', async () => {
    const payload = Buffer.alloc(200, 0x61);
    payload[10] = 0xff;
    const frame = buildFrame({ opcode: TEXT, payload });
    const raw = await open();
    raw.write(frame.subarray(0, frame.length - 100)); // header and the first 100 payload bytes only
    assert.equal(await raw.closeFrame(), 1007);
    await raw.end();
    raw.destroy();
  });

  test('fail fast across fragments: the first fragment alone is enough to fail', async () => {
    const raw = await open();
    raw.sendFrame({ opcode: TEXT, payload: Buffer.from([0x61, 0xf8]), fin: false });
    assert.equal(await raw.closeFrame(), 1007);
    await raw.end();
    raw.destroy();
  });
});

describe('closing (§5.5.1, §7)', () => {
  test('an empty close is answered with an empty close, then the server ends TCP', async () => {
    const raw = await open();
    raw.sendFrame({ opcode: CLOSE });
    const result = await raw.closeAndEnd();
    assert.equal(result.code, 1005, 'empty body echoed');
    raw.destroy();
  });

  test('a close payload of 1 byte → 1002', () => expectClose([{ opcode: CLOSE, payload: Buffer.from([0x03]) }], 1002));

  test('a 2-byte close (just the code) is echoed', () => expectClose([{ opcode: CLOSE, payload: closeBody(1000) }], 1000));

  test('a 125-byte close (code + 123-byte reason) is accepted', () => expectClose([{ opcode: CLOSE, payload: closeBody(1001, 'r'.repeat(123)) }], 1001));

  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    test(`close code ${code} is echoed`, () => expectClose([{ opcode: CLOSE, payload: closeBody(code, 'bye') }], code));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
    test(`close code ${code} → 1002`, () => expectClose([{ opcode: CLOSE, payload: closeBody(code) }], 1002));
  }

  test('a close reason that is not UTF-8 → 1007', () => expectClose([{ opcode: CLOSE, payload: closeBody(1000, Buffer.from([0xff, 0xfe])) }], 1007));

  test('nothing is sent or echoed after the close, even for frames that follow it in the same write', async () => {
    const raw = await open();
    raw.write(Buffer.concat([buildFrame({ opcode: CLOSE, payload: closeBody(1000) }), buildFrame({ opcode: TEXT, payload: 'too late' }), buildFrame({ opcode: PING, payload: 'late' })]));
    const result = await raw.closeAndEnd();
    assert.equal(result.code, 1000);
    assert.equal(raw.frames.length, 1, 'only the close frame');
    raw.destroy();
  });

  test('the server side sees a clean close with the client\'s code and reason', async () => {
    const raw = await open();
    const [serverSide] = [...echoServer.websockets.connections].slice(-1);
    const seen = new Promise<unknown[]>((resolve) => serverSide.once('close', (...values) => resolve(values)));
    raw.sendFrame({ opcode: CLOSE, payload: closeBody(4321, 'done here') });
    await raw.closeAndEnd();
    assert.deepEqual(await seen, [4321, 'done here', true]);
    raw.destroy();
  });
});

describe('limits (§10.4)', () => {
  test('a message of exactly maxMessageBytes is accepted', async () => {
    const payload = Buffer.alloc(SMALL_LIMITS.maxMessageBytes, 0x42);
    const raw = await expectEchoes([{ opcode: BINARY, payload }], [{ opcode: BINARY, payload }], limitedServer);
    await closeCleanly(raw);
  });

  test('one byte more → 1009, decided on the header', async () => {
    const frame = buildFrame({ opcode: BINARY, payload: Buffer.alloc(SMALL_LIMITS.maxMessageBytes + 1) });
    // Only the header is sent: the limit must be enforced before the payload is buffered.
    await expectClose([frame.subarray(0, 8)], 1009, limitedServer);
  });

  test('fragments adding up to one byte more → 1009', () =>
    expectClose([{ opcode: TEXT, payload: 'a'.repeat(600), fin: false }, { opcode: CONTINUATION, payload: 'b'.repeat(401) }], 1009, limitedServer));

  test('exactly maxFragments fragments are accepted, one more → 1008', async () => {
    const fragments = (count: number): FrameSpec[] =>
      Array.from({ length: count }, (_, index) => ({ opcode: index === 0 ? TEXT : CONTINUATION, payload: 'x', fin: index === count - 1 }));
    const raw = await expectEchoes(fragments(SMALL_LIMITS.maxFragments), [{ opcode: TEXT, payload: 'x'.repeat(SMALL_LIMITS.maxFragments) }], limitedServer);
    await closeCleanly(raw);
    await expectClose(fragments(SMALL_LIMITS.maxFragments + 1), 1008, limitedServer);
  });
});

describe('opening handshake (§4.2)', () => {
  const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

  async function answer(request: string): Promise<{ statusCode: number; headers: Record<string, string>; raw: RawWebSocket }> {
    const raw = await RawWebSocket.tcp(echoServer.port);
    openSockets.add(raw);
    raw.write(request);
    const response = await raw.readHttpAnswer();
    return { ...response, raw };
  }

  // RFC 6455 §1.3 prints this pair; SHA-1 of the key + GUID, base64, checked independently with Python.
  test("the RFC's sample key gets the RFC's accept value", async () => {
    assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const { statusCode, headers, raw } = await answer(handshakeRequest('/', KEY));
    assert.equal(statusCode, 101);
    assert.equal(headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    assert.equal(headers['upgrade']?.toLowerCase(), 'websocket');
    assert.equal(headers['sec-websocket-extensions'], undefined, 'no extension is ever accepted');
    raw.destroy();
  });

  test('a missing key → 400 and the connection is closed', async () => {
    const { statusCode, raw } = await answer(handshakeRequest('/', ''));
    assert.equal(statusCode, 400);
    await raw.end();
  });

  for (const badKey of ['short', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZQ=!', '!!!!!!!!!!!!!!!!!!!!!!==']) {
    test(`an invalid key (${badKey}) → 400`, async () => {
      const { statusCode, raw } = await answer(handshakeRequest('/', badKey));
      assert.equal(statusCode, 400);
      await raw.end();
    });
  }

  test('version 12 → 426 with Sec-WebSocket-Version: 13', async () => {
    const { statusCode, headers, raw } = await answer(handshakeRequest('/', KEY, { 'Sec-WebSocket-Version': '12' }));
    assert.equal(statusCode, 426);
    assert.equal(headers['sec-websocket-version'], '13');
    await raw.end();
  });

  test('a POST upgrade is refused with 405', async () => {
    const { statusCode, headers, raw } = await answer(handshakeRequest('/', KEY).replace(/^GET/, 'POST'));
    assert.equal(statusCode, 405);
    assert.equal(headers['allow'], 'GET');
    await raw.end();
  });

  test('no Upgrade header: not a WebSocket, never 101', async () => {
    const { statusCode, raw } = await answer(handshakeRequest('/', KEY, { Upgrade: '', Connection: 'keep-alive' }));
    assert.ok(statusCode >= 400, `status ${statusCode}`);
    raw.destroy();
  });

  test('Connection as a token list "keep-alive, Upgrade" is accepted', async () => {
    const { statusCode, raw } = await answer(handshakeRequest('/', KEY, { Connection: 'keep-alive, Upgrade' }));
    assert.equal(statusCode, 101);
    raw.destroy();
  });

  test('tokens are compared case-insensitively (Upgrade: WebSocket, Connection: UPGRADE)', async () => {
    const { statusCode, raw } = await answer(handshakeRequest('/', KEY, { Upgrade: 'WebSocket', Connection: 'UPGRADE' }));
    assert.equal(statusCode, 101);
    raw.destroy();
  });

  test('frames sent right behind the handshake, in the same write, are not lost', async () => {
    const raw = await RawWebSocket.tcp(echoServer.port);
    openSockets.add(raw);
    const key = 'AQIDBAUGBwgJCgsMDQ4PEA==';
    raw.write(Buffer.concat([Buffer.from(handshakeRequest('/', key)), buildFrame({ opcode: TEXT, payload: 'eager' })]));
    const response = await raw.readHttpAnswer();
    assert.equal(response.headers['sec-websocket-accept'], expectedAccept(key));
    const [echo] = await raw.framesUntil(1);
    assert.equal(echo.payload.toString(), 'eager');
    await closeCleanly(raw);
  });

  // The checks node:http never lets reach us (it only emits 'upgrade' with both headers), tested on the function.
  test('checkUpgradeRequest: each missing or wrong header has its own answer', () => {
    const good = { method: 'GET', httpVersion: '1.1', headers: { host: 'h', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' } };
    assert.equal(checkUpgradeRequest(good).ok, true);
    const without = (name: string) => ({ ...good, headers: { ...good.headers, [name]: undefined } });
    const status = (request: typeof good | ReturnType<typeof without>) => {
      const check = checkUpgradeRequest(request);
      return check.ok ? 101 : check.status;
    };
    assert.equal(status(without('upgrade')), 400);
    assert.equal(status(without('connection')), 400);
    assert.equal(status(without('host')), 400);
    assert.equal(status(without('sec-websocket-key')), 400);
    assert.equal(status(without('sec-websocket-version')), 426);
    assert.equal(status({ ...good, httpVersion: '1.0' }), 400);
    assert.equal(status({ ...good, headers: { ...good.headers, connection: 'keep-alive' } }), 400);
    assert.equal(status({ ...good, headers: { ...good.headers, upgrade: 'h2c' } }), 400);
  });
});

describe('the sans-I/O core (WebSocketProtocol) without sockets', () => {
  class Recorder implements ProtocolOutput {
    written: Buffer[] = [];
    messages: Array<[string, boolean]> = [];
    pings: string[] = [];
    pongs: string[] = [];
    closes: CloseInfo[] = [];
    errors: WebSocketError[] = [];
    write(data: Buffer): void {
      this.written.push(Buffer.from(data));
    }
    /** Take every event the core has queued, as an adapter does after each chunk. */
    takeEvents(protocol: WebSocketProtocol): void {
      for (let event = protocol.nextEvent(); event !== undefined; event = protocol.nextEvent()) {
        if (event.kind === ProtocolEventKind.Message) this.messages.push([event.data.toString(), event.isBinary]);
        else if (event.kind === ProtocolEventKind.Ping) this.pings.push(event.data.toString());
        else if (event.kind === ProtocolEventKind.Pong) this.pongs.push(event.data.toString());
        else if (event.kind === ProtocolEventKind.Close) this.closes.push({ ...event.close! });
        else this.errors.push(event.error!);
      }
    }
    /** The frames written so far, parsed. */
    frames() {
      return parseFrames(Buffer.concat(this.written)).frames;
    }
  }

  /** The core with its events taken after every call, the way the socket adapter drives it. */
  class DrivenProtocol extends WebSocketProtocol {
    constructor(readonly recorder: Recorder, role: Role, options: object) {
      super(recorder, { role, ...options });
    }
    override receive(chunk: Buffer): void {
      super.receive(chunk);
      this.recorder.takeEvents(this);
    }
    override transportClosed(): void {
      super.transportClosed();
      this.recorder.takeEvents(this);
    }
  }

  function core(role: Role = 'server', options = {}): { protocol: WebSocketProtocol; recorder: Recorder } {
    const recorder = new Recorder();
    return { protocol: new DrivenProtocol(recorder, role, options), recorder };
  }

  test('server role: messages, a ping answered, a close echoed, then input ignored', () => {
    const { protocol, recorder } = core();
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'hi' }));
    protocol.receive(buildFrame({ opcode: BINARY, payload: 'bin' }));
    protocol.receive(buildFrame({ opcode: PING, payload: 'p' }));
    protocol.receive(buildFrame({ opcode: CLOSE, payload: closeBody(1000, 'ok') }));
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'ignored' }));
    assert.deepEqual(recorder.messages, [['hi', false], ['bin', true]]);
    assert.deepEqual(recorder.pings, ['p']);
    assert.deepEqual(recorder.closes, [{ code: 1000, reason: 'ok', wasClean: true }]);
    assert.deepEqual(recorder.frames().map((frame) => [frame.opcode, frame.payload.toString('hex')]), [[PONG, '70'], [CLOSE, '03e8']]);
    assert.equal(protocol.state, 'closed');
    assert.equal(protocol.send(Buffer.from('x'), false), false, 'nothing is sent after the close');
  });

  test('client role: frames it writes are masked, frames it accepts are not', () => {
    const { protocol, recorder } = core('client');
    protocol.send(Buffer.from('masked please'), false);
    const [frame] = recorder.frames();
    assert.equal(frame.masked, true);
    assert.equal(frame.payload.toString(), 'masked please');
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'from server', mask: false }));
    assert.deepEqual(recorder.messages, [['from server', false]]);
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'masked by a server' }));
    assert.equal(recorder.closes[0].code, 1002);
  });

  test('we close first: Closing until the peer answers, then Closed and clean', () => {
    const { protocol, recorder } = core();
    protocol.close(4000, 'bye');
    assert.equal(protocol.state, 'closing');
    assert.equal(protocol.ping(), false, 'no ping after a close was sent');
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'still delivered' }));
    protocol.receive(buildFrame({ opcode: CLOSE, payload: closeBody(4000) }));
    assert.deepEqual(recorder.messages, [['still delivered', false]]);
    assert.deepEqual(recorder.closes, [{ code: 4000, reason: '', wasClean: true }]);
    assert.equal(recorder.frames().filter((frame) => frame.opcode === CLOSE).length, 1, 'the answer is not answered again');
  });

  test('a violation writes one close with its code, reports the error, and stops', () => {
    const { protocol, recorder } = core();
    protocol.receive(Buffer.concat([buildFrame({ opcode: TEXT, payload: Buffer.from([0xff]) }), buildFrame({ opcode: TEXT, payload: 'after' })]));
    assert.equal(recorder.errors[0].code, 'INVALID_UTF8');
    assert.equal(recorder.closes.length, 1);
    assert.equal(recorder.closes[0].code, 1007);
    assert.equal(recorder.closes[0].wasClean, false);
    assert.deepEqual(recorder.messages, []);
    assert.deepEqual(recorder.frames().map((frame) => frame.opcode), [CLOSE]);
  });

  test('a broken frame right behind a close, in the same chunk, is discarded: one close, no error', () => {
    const { protocol, recorder } = core();
    protocol.receive(Buffer.concat([buildFrame({ opcode: CLOSE, payload: closeBody(1000) }), buildFrame({ opcode: TEXT, reservedBits: 4 })]));
    assert.deepEqual(recorder.closes, [{ code: 1000, reason: '', wasClean: true }]);
    assert.deepEqual(recorder.errors, []);
  });

  test('close codes that may not be sent are refused with a RangeError', () => {
    const { protocol } = core();
    assert.throws(() => protocol.close(1006), RangeError);
    assert.throws(() => protocol.close(1000, 'x'.repeat(124)), RangeError);
    assert.equal(protocol.state, 'open');
  });

  test('the transport ending without a close handshake is 1006, reported once', () => {
    const { protocol, recorder } = core();
    protocol.transportClosed();
    protocol.transportClosed();
    assert.deepEqual(recorder.closes, [{ code: 1006, reason: '', wasClean: false }]);
  });

  test('receive() parses the whole chunk before any event comes out: events wait for nextEvent()', () => {
    const recorder = new Recorder();
    const protocol = new WebSocketProtocol(recorder, { role: 'server' });
    const chunk = Buffer.concat([
      buildFrame({ opcode: TEXT, payload: 'one' }),
      buildFrame({ opcode: PING, payload: 'p' }),
      buildFrame({ opcode: BINARY, payload: 'two' }),
      buildFrame({ opcode: TEXT, reservedBits: 2, payload: 'bad' }),
      buildFrame({ opcode: TEXT, payload: 'never read' }),
    ]);
    protocol.receive(chunk);
    assert.deepEqual(recorder.frames(), [], 'nothing answered yet: answers follow what the application sends');
    const kinds: string[] = [];
    for (let event = protocol.nextEvent(); event !== undefined; event = protocol.nextEvent()) {
      kinds.push(event.kind === ProtocolEventKind.Message ? `message ${event.data}` : event.kind === ProtocolEventKind.Error ? `error ${event.error!.code}` : event.kind === ProtocolEventKind.Close ? `close ${event.close!.code}` : `ping ${event.data}`);
      // An application answering each message as it is handed out: its answer goes before the pong and the close.
      if (event.kind === ProtocolEventKind.Message) protocol.send(Buffer.from(`re: ${event.data}`), false);
    }
    assert.deepEqual(kinds, ['message one', 'ping p', 'message two', 'error RESERVED_BITS', 'close 1002']);
    assert.deepEqual(recorder.frames().map((frame) => `${frame.opcode} ${frame.payload.subarray(frame.opcode === CLOSE ? 2 : 0)}`), [`${TEXT} re: one`, `${PONG} p`, `${TEXT} re: two`, `${CLOSE} reserved bits set (RSV=2) that no negotiated extension defines`]);
    assert.equal(protocol.state, 'closed');
    assert.equal(protocol.nextEvent(), undefined);
  });

  test('the event records are reused from chunk to chunk and let go of their buffers once taken', () => {
    const recorder = new Recorder();
    const protocol = new WebSocketProtocol(recorder, { role: 'server' });
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'first' }));
    const first = protocol.nextEvent()!;
    assert.equal(first.data.toString(), 'first');
    assert.equal(protocol.nextEvent(), undefined);
    assert.equal(first.data.length, 0, 'a taken record holds no buffer (an idle connection pins no chunk)');
    protocol.receive(buildFrame({ opcode: TEXT, payload: 'second' }));
    const second = protocol.nextEvent()!;
    assert.equal(second, first, 'the same record, no allocation per message');
    assert.equal(second.data.toString(), 'second');
  });
});
