// Hostile input, deterministic: a seeded PRNG builds thousands of frame streams — valid ones, random
// bytes, and valid ones mutated (bit flips, insertions, cuts, wrong lengths) — and feeds them in random
// splits to the sans-I/O protocol in both roles, then a few hundred through real sockets to the echo
// server. The protocol must never throw, never hold more than its limit, and always end open or with a
// legal close frame as the very last thing it wrote.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isWireCloseCode } from '../lib/websocket/close-codes.ts';
import { ProtocolEventKind, WebSocketProtocol, type ProtocolOutput, type Role } from '../lib/websocket/protocol.ts';
import { startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { buildFrame, closeBody, parseFrames, RawWebSocket, type FrameSpec } from './helpers/raw-websocket.ts';
import { mutate, prng, randomBytes, type Random } from './helpers/prng.ts';

const MAX_MESSAGE_BYTES = 4096;
const FAILURE_CODES = new Set([1002, 1007, 1008, 1009]);

function randomPayload(random: Random, opcode: number): Buffer {
  const kind = random(6);
  if (opcode >= 8) return kind === 0 ? randomBytes(random, random(130)) : Buffer.from('p'.repeat(random(20)));
  if (kind === 0) return randomBytes(random, random(300));
  if (kind === 1) return Buffer.from('é€😀 text '.repeat(random(30)));
  if (kind === 2) return Buffer.alloc(random(MAX_MESSAGE_BYTES + 200), 0x61);
  return Buffer.from('x'.repeat(random(40)));
}

/** A stream of plausible frames: messages, fragments, controls, sometimes a close. */
function frameStream(random: Random, masked: boolean): Buffer {
  const frames: Buffer[] = [];
  const count = 1 + random(8);
  for (let index = 0; index < count; index++) {
    const roll = random(20);
    let spec: FrameSpec;
    if (roll < 7) spec = { opcode: 1 + random(2), payload: undefined, fin: random(4) !== 0 };
    else if (roll < 11) spec = { opcode: 0, fin: random(2) === 0 };
    else if (roll < 14) spec = { opcode: 9 };
    else if (roll < 16) spec = { opcode: 10 };
    else if (roll < 18) spec = { opcode: 8, payload: random(2) === 0 ? closeBody([1000, 1001, 3000, 4999, 1005, 999, 2999][random(7)], random(2) === 0 ? 'bye' : Buffer.from([0xff])) : randomBytes(random, random(3)) };
    else spec = { opcode: random(16), fin: random(2) === 0, reservedBits: random(8) };
    spec.payload ??= randomPayload(random, spec.opcode);
    spec.mask = masked;
    frames.push(buildFrame(spec));
  }
  return Buffer.concat(frames);
}

/** Damage a stream: flip bits, insert or delete bytes, cut it short, or overwrite a length byte. */
function mutateFrames(random: Random, stream: Buffer): Buffer {
  return mutate(random, stream, (bytes, at) => {
    bytes[at] = [126, 127, 0xfe, 0xff, 0x80, 0x7f][random(6)];
    return bytes;
  });
}

class Observer implements ProtocolOutput {
  written: Buffer[] = [];
  peerClose: number | undefined;
  closes = 0;
  write(data: Buffer): void {
    this.written.push(Buffer.from(data));
  }
  /** Take the events the core queued while parsing; only closes matter here. */
  takeEvents(protocol: WebSocketProtocol): void {
    for (let event = protocol.nextEvent(); event !== undefined; event = protocol.nextEvent()) {
      if (event.kind !== ProtocolEventKind.Close) continue;
      this.closes++;
      if (event.close!.wasClean) this.peerClose = event.close!.code;
    }
  }
}

/** Feed `stream` in random splits; check every invariant; return a label for the outcome. */
function runCase(random: Random, stream: Buffer, role: Role, label: string): string {
  const observer = new Observer();
  const protocol = new WebSocketProtocol(observer, { role, maxMessageBytes: MAX_MESSAGE_BYTES, maxFragments: 16 });
  let offset = 0;
  while (offset < stream.length) {
    const size = 1 + random(random(3) === 0 ? 8 : 600);
    const piece = Buffer.from(stream.subarray(offset, offset + size));
    offset += size;
    assert.doesNotThrow(() => protocol.receive(piece), label);
    observer.takeEvents(protocol);
    assert.ok(protocol.bufferedBytes <= MAX_MESSAGE_BYTES, `${label}: holds ${protocol.bufferedBytes} bytes`);
  }
  assert.ok(observer.closes <= 1, `${label}: close reported ${observer.closes} times`);
  const { frames, rest } = parseFrames(Buffer.concat(observer.written));
  assert.equal(rest.length, 0, `${label}: a partial frame was written`);
  for (const frame of frames) assert.equal(frame.masked, role === 'client', `${label}: masking of what we write`);
  const closeFrames = frames.filter((frame) => frame.opcode === 8);
  if (protocol.state === 'open') {
    assert.equal(closeFrames.length, 0, `${label}: open but wrote a close`);
    return 'open';
  }
  assert.equal(closeFrames.length, 1, `${label}: exactly one close frame`);
  assert.equal(frames.at(-1)!.opcode, 8, `${label}: the close is the last frame written`);
  const body = frames.at(-1)!.payload;
  const code = body.length >= 2 ? body.readUInt16BE(0) : 1005;
  if (observer.peerClose !== undefined) {
    assert.equal(code, observer.peerClose, `${label}: the peer's close is echoed`);
    return 'echoed close';
  }
  assert.ok(FAILURE_CODES.has(code), `${label}: failed with ${code}`);
  return `failed ${code}`;
}

describe('the sans-I/O protocol under random and mutated input', () => {
  for (const role of ['server', 'client'] as const) {
    test(`${role} role: 4,000 seeded cases never throw, stay bounded, end open or with a legal close`, () => {
      const random = prng(role === 'server' ? 0x5eed : 0xc11e);
      const outcomes = new Map<string, number>();
      for (let index = 0; index < 4000; index++) {
        const masked = role === 'server';
        const kind = index % 4;
        const stream = kind === 0 ? frameStream(random, masked) : kind === 3 ? randomBytes(random, random(400)) : mutateFrames(random, frameStream(random, masked));
        const outcome = runCase(random, stream, role, `${role} case ${index}`);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // The generator must actually reach every kind of ending, or the test proves little.
      for (const expected of ['open', 'echoed close', 'failed 1002', 'failed 1007', 'failed 1009']) {
        assert.ok((outcomes.get(expected) ?? 0) > 0, `no case ended "${expected}": ${JSON.stringify([...outcomes])}`);
      }
    });
  }

  test('a fragmented message growing toward the limit never allocates past it', () => {
    const observer = new Observer();
    const protocol = new WebSocketProtocol(observer, { role: 'server', maxMessageBytes: 10_000, maxFragments: 1000 });
    protocol.receive(buildFrame({ opcode: 2, payload: Buffer.alloc(3000), fin: false }));
    for (let index = 0; index < 70; index++) {
      protocol.receive(buildFrame({ opcode: 0, payload: Buffer.alloc(100), fin: false }));
      assert.ok(protocol.bufferedBytes <= 10_000, `holds ${protocol.bufferedBytes}`);
    }
    protocol.receive(buildFrame({ opcode: 0, payload: Buffer.alloc(0), fin: true }));
    assert.equal(protocol.state, 'open');
  });
});

describe('hostile streams through a real socket to the echo server', () => {
  let echoServer: EchoServer;
  before(async () => {
    echoServer = await startEchoServer({ maxMessageBytes: MAX_MESSAGE_BYTES, maxFragments: 16, closeTimeoutMs: 1000 });
  });
  after(async () => {
    await echoServer.close();
  });

  test('300 cases: each connection ends as the sans-I/O core predicts, with a legal code, or stays usable', async () => {
    const random = prng(0xbadc0de);
    const cases = Array.from({ length: 300 }, (_, index) => (index % 3 === 2 ? randomBytes(random, random(200)) : mutateFrames(random, frameStream(random, true))));
    const outcomes = new Map<string, number>();
    // The sans-I/O core, fed the same bytes, predicts how the real server must end each connection.
    const predictCloseCode = (bytes: Buffer): number | undefined => {
      const observer = new Observer();
      const model = new WebSocketProtocol(observer, { role: 'server', maxMessageBytes: MAX_MESSAGE_BYTES, maxFragments: 16 });
      model.receive(Buffer.from(bytes));
      observer.takeEvents(model); // a peer's close is answered once the events before it are taken
      const close = parseFrames(Buffer.concat(observer.written)).frames.find((frame) => frame.opcode === 8);
      if (!close) return undefined;
      return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
    };
    // Zero bytes after a frame that swallowed the probe: they complete it, then read as an unmasked frame (→ 1002).
    const padding = Buffer.alloc(2 * MAX_MESSAGE_BYTES);
    const runOne = async (stream: Buffer, index: number) => {
      const raw = await RawWebSocket.open(echoServer.port);
      try {
        // After the hostile bytes, a probe and a proper close: a connection that survived must echo both.
        let sent = Buffer.concat([stream, buildFrame({ opcode: 1, payload: `probe ${index}` }), buildFrame({ opcode: 8, payload: closeBody(1000) })]);
        let expected = predictCloseCode(sent);
        if (expected === undefined) {
          // The stream ended inside a frame announcing more bytes, which swallowed the probe: finish it.
          sent = Buffer.concat([sent, padding]);
          expected = predictCloseCode(sent);
        }
        assert.ok(expected !== undefined, `case ${index}: the model never closed`);
        raw.write(sent);
        await raw.end(5000);
        const close = raw.frames.find((frame) => frame.opcode === 8);
        assert.ok(close, `case ${index}: TCP ended without a close frame`);
        const code = close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
        assert.equal(code, expected, `case ${index}: the socket and the sans-I/O core disagree`);
        assert.ok(FAILURE_CODES.has(code) || isWireCloseCode(code) || code === 1005, `case ${index}: close code ${code}`);
        assert.equal(raw.frames.at(-1)!.opcode, 8, `case ${index}: nothing after the close`);
        const outcome = code === 1000 && raw.frames.some((frame) => frame.payload.toString() === `probe ${index}`) ? 'usable' : String(code);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      } finally {
        raw.destroy();
      }
    };
    for (let start = 0; start < cases.length; start += 20) {
      await Promise.all(cases.slice(start, start + 20).map((stream, offset) => runOne(stream, start + offset)));
    }
    for (const expected of ['usable', '1002', '1007']) assert.ok((outcomes.get(expected) ?? 0) > 0, `no "${expected}" outcome: ${JSON.stringify([...outcomes])}`);
    assert.ok(echoServer.websockets.connections.size <= 20, 'connections are released');
  });
});
