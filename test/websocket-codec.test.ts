// The WebSocket codec on its own, no sockets: frame encoding and incremental parsing (RFC 6455 §5.2),
// masking (§5.3) and incremental UTF-8 validation (§8.1, RFC 3629), each checked against a naive
// reference and fed in every split a socket could produce.

import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { WebSocketError } from '../lib/websocket/errors.ts';
import { encodeFrame, frameHeaderLength, SMALL_FRAME_BYTES } from '../lib/websocket/frame-encoder.ts';
import { FrameParser, type FrameHeader, type FrameSink } from '../lib/websocket/frame-parser.ts';
import { applyMask, MaskKeySource } from '../lib/websocket/mask.ts';
import { Opcode } from '../lib/websocket/opcodes.ts';
import { Utf8Validator } from '../lib/websocket/utf8.ts';

interface ParsedFrame {
  fin: boolean;
  reservedBits: number;
  opcode: number;
  masked: boolean;
  payloadLength: number;
  payload: Buffer;
}

/** A sink that keeps every frame whole, copying payload pieces (they are views valid during the call only). */
class CollectingSink implements FrameSink {
  readonly frames: ParsedFrame[] = [];
  private pieces: Buffer[] = [];
  private current: Omit<ParsedFrame, 'payload'> | undefined;
  onFrameStart(header: FrameHeader): void {
    this.current = { ...header };
    this.pieces = [];
  }
  onFramePayload(data: Buffer): void {
    this.pieces.push(Buffer.from(data));
  }
  onFrameEnd(): void {
    this.frames.push({ ...this.current!, payload: Buffer.concat(this.pieces) });
    this.current = undefined;
  }
}

/** Parse `stream` (copied first: the parser unmasks in place) cut at the given offsets. */
function parseInPieces(stream: Buffer, cuts: number[], expectMasked: boolean): ParsedFrame[] {
  const copy = Buffer.from(stream);
  const sink = new CollectingSink();
  const parser = new FrameParser(sink, { expectMasked });
  let start = 0;
  for (const cut of [...cuts, copy.length]) {
    parser.push(copy.subarray(start, cut));
    start = cut;
  }
  return sink.frames;
}

function concatFrame(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

/** Deterministic bytes (a PRNG seeded per call) so failures reproduce. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

const DATA_OPCODES = [Opcode.Continuation, Opcode.Text, Opcode.Binary];
const CONTROL_OPCODES = [Opcode.Close, Opcode.Ping, Opcode.Pong];

describe('frame encoding and parsing (§5.2)', () => {
  const lengths = [0, 1, 2, 125, 126, 127, 128, SMALL_FRAME_BYTES - 1, SMALL_FRAME_BYTES, 65535, 65536, 70000];

  for (const masked of [false, true]) {
    test(`every length form round-trips, ${masked ? 'masked (client → server)' : 'unmasked (server → client)'}`, () => {
      for (const length of lengths) {
        for (const opcode of DATA_OPCODES) {
          for (const fin of [true, false]) {
            const payload = pseudoRandomBytes(length, length + opcode);
            const frame = concatFrame(encodeFrame(opcode, payload, fin, masked ? new MaskKeySource() : undefined));
            assert.equal(frame.length, frameHeaderLength(length, masked) + length);
            const [parsed, ...extra] = parseInPieces(frame, [], masked);
            assert.equal(extra.length, 0);
            assert.deepEqual(
              { fin: parsed.fin, reservedBits: parsed.reservedBits, opcode: parsed.opcode, masked: parsed.masked, payloadLength: parsed.payloadLength },
              { fin, reservedBits: 0, opcode, masked, payloadLength: length },
            );
            assert.ok(parsed.payload.equals(payload), `payload of length ${length} differs`);
          }
        }
      }
    });
  }

  test('the length field takes the shortest form: 7 bits up to 125, 16 bits up to 65535, then 64 bits', () => {
    const secondByte = (length: number) => concatFrame(encodeFrame(Opcode.Binary, Buffer.alloc(length)))[1];
    assert.equal(secondByte(125), 125);
    assert.equal(secondByte(126), 126);
    assert.equal(secondByte(65535), 126);
    assert.equal(secondByte(65536), 127);
    const frame = concatFrame(encodeFrame(Opcode.Binary, Buffer.alloc(65536)));
    assert.equal(frame.readBigUInt64BE(2), 65536n);
  });

  test('control opcodes round-trip with payloads up to 125 bytes, masked and not', () => {
    for (const opcode of CONTROL_OPCODES) {
      for (const length of [0, 1, 2, 124, 125]) {
        for (const masked of [false, true]) {
          const payload = pseudoRandomBytes(length, opcode * 1000 + length);
          const frame = concatFrame(encodeFrame(opcode, payload, true, masked ? new MaskKeySource() : undefined));
          const [parsed] = parseInPieces(frame, [], masked);
          assert.equal(parsed.opcode, opcode);
          assert.ok(parsed.payload.equals(payload));
        }
      }
    }
  });

  test('a large unmasked frame is sent as header + the caller\'s own payload (no copy)', () => {
    const payload = Buffer.alloc(SMALL_FRAME_BYTES * 4, 7);
    const parts = encodeFrame(Opcode.Binary, payload);
    assert.equal(parts.length, 2);
    assert.equal(parts[1], payload);
  });

  test('masking copies: the caller\'s payload is never changed', () => {
    const payload = Buffer.from('hello, unchanged');
    const before = Buffer.from(payload);
    const [frame] = encodeFrame(Opcode.Text, payload, true, new MaskKeySource());
    assert.ok(payload.equals(before));
    assert.notDeepEqual(frame.subarray(6), payload, 'the payload on the wire is masked');
  });

  test('masking keys differ from frame to frame', () => {
    const keys = new MaskKeySource();
    const seen = new Set<string>();
    for (let index = 0; index < 3000; index++) seen.add(keys.next().toString('hex'));
    assert.ok(seen.size > 2990, `only ${seen.size} distinct keys in 3000`);
  });
});

describe('incremental parsing: every split gives the same frames', () => {
  // A stream of small frames, a 16-bit-length frame, fragments and control frames between them.
  function streamOf(masked: boolean): Buffer {
    const keys = masked ? new MaskKeySource() : undefined;
    return Buffer.concat([
      ...encodeFrame(Opcode.Text, Buffer.from('héllo'), true, keys),
      ...encodeFrame(Opcode.Binary, Buffer.alloc(0), true, keys),
      ...encodeFrame(Opcode.Text, Buffer.from('frag-'), false, keys),
      ...encodeFrame(Opcode.Ping, Buffer.from('in between'), true, keys),
      ...encodeFrame(Opcode.Continuation, Buffer.from('mented'), true, keys),
      ...encodeFrame(Opcode.Binary, pseudoRandomBytes(300, 3), true, keys),
      ...encodeFrame(Opcode.Pong, Buffer.alloc(0), true, keys),
      ...encodeFrame(Opcode.Close, Buffer.from([0x03, 0xe8, 0x6f, 0x6b]), true, keys),
    ]);
  }

  for (const masked of [false, true]) {
    const label = masked ? 'masked' : 'unmasked';

    test(`${label}: all two-way splits and byte-by-byte feeding match the whole stream`, () => {
      const stream = streamOf(masked);
      const whole = parseInPieces(stream, [], masked);
      assert.equal(whole.length, 8);
      for (let cut = 0; cut <= stream.length; cut++) {
        assert.deepEqual(parseInPieces(stream, [cut], masked), whole, `split at ${cut}`);
      }
      const everyByte = Array.from({ length: stream.length - 1 }, (_, index) => index + 1);
      assert.deepEqual(parseInPieces(stream, everyByte, masked), whole);
    });

    test(`${label}: a 64-bit-length frame split anywhere in its header and payload`, () => {
      const payload = pseudoRandomBytes(65536 + 17, 11);
      const stream = Buffer.concat([...encodeFrame(Opcode.Binary, payload, true, masked ? new MaskKeySource() : undefined), ...encodeFrame(Opcode.Text, Buffer.from('next'), true, masked ? new MaskKeySource() : undefined)]);
      const whole = parseInPieces(stream, [], masked);
      assert.ok(whole[0].payload.equals(payload));
      assert.equal(whole[1].payload.toString(), 'next');
      const cuts = [...Array.from({ length: 20 }, (_, index) => index), 1000, 65536, stream.length - 12, stream.length - 7, stream.length - 1];
      for (const cut of cuts) assert.deepEqual(parseInPieces(stream, [cut], masked), whole, `split at ${cut}`);
      // Three-way: header split in two, payload split in an odd place.
      assert.deepEqual(parseInPieces(stream, [1, 9, 4097], masked), whole);
    });
  }
});

describe('framing violations are errors with the right close code', () => {
  function parseError(bytes: Buffer, expectMasked = false): WebSocketError {
    const parser = new FrameParser(new CollectingSink(), { expectMasked });
    try {
      parser.push(bytes);
    } catch (error) {
      assert.ok(error instanceof WebSocketError, `expected a WebSocketError, got ${String(error)}`);
      return error;
    }
    assert.fail('no error thrown');
  }

  test('64-bit length with the most significant bit set → 1002', () => {
    const header = Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(parseError(header).closeCode, 1002);
  });

  test('64-bit length above 2^53 − 1 → error, below it → accepted as a header', () => {
    const tooLarge = Buffer.from([0x82, 127, 0x00, 0x20, 0, 0, 0, 0, 0, 0]);
    const error = parseError(tooLarge);
    assert.ok(error.closeCode === 1009 || error.closeCode === 1002);
    const sink = new CollectingSink();
    let announced = -1;
    sink.onFrameStart = (header) => {
      announced = header.payloadLength;
    };
    new FrameParser(sink, { expectMasked: false }).push(Buffer.from([0x82, 127, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(announced, Number.MAX_SAFE_INTEGER);
  });

  test('each reserved bit → 1002', () => {
    for (const bit of [0x40, 0x20, 0x10]) {
      assert.equal(parseError(Buffer.from([0x81 | bit, 0])).code, 'RESERVED_BITS');
    }
  });

  test('reserved opcodes 3–7 and 11–15 → 1002', () => {
    for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
      const error = parseError(Buffer.from([0x80 | opcode, 0]));
      assert.equal(error.closeCode, 1002, `opcode ${opcode}`);
    }
  });

  test('fragmented control frame and control payload over 125 → 1002', () => {
    assert.equal(parseError(Buffer.from([0x09, 0])).code, 'FRAGMENTED_CONTROL_FRAME');
    assert.equal(parseError(Buffer.from([0x89, 126, 0, 126])).code, 'CONTROL_FRAME_TOO_LONG');
  });

  test('a server rejects unmasked frames, a client rejects masked ones → 1002', () => {
    assert.equal(parseError(Buffer.from([0x81, 0x00]), true).code, 'UNMASKED_FRAME');
    assert.equal(parseError(Buffer.from([0x81, 0x80, 1, 2, 3, 4]), false).code, 'MASKED_FRAME');
  });

  test('a header split byte by byte is still checked', () => {
    const parser = new FrameParser(new CollectingSink(), { expectMasked: false });
    parser.push(Buffer.from([0x82]));
    parser.push(Buffer.from([127]));
    assert.throws(() => parser.push(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1])), (error: unknown) => error instanceof WebSocketError && error.closeCode === 1002);
  });
});

describe('masking (§5.3)', () => {
  function naiveMask(data: Uint8Array, mask: Buffer, maskOffset: number, start: number, end: number): void {
    for (let index = start; index < end; index++) data[index] ^= mask[(maskOffset + index - start) & 3];
  }

  test('applyMask equals a byte loop at every alignment, length 0..70 and mask offset 0..3', () => {
    const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    const backing = new ArrayBuffer(128);
    for (let alignment = 0; alignment < 8; alignment++) {
      for (let length = 0; length <= 70; length++) {
        for (let maskOffset = 0; maskOffset < 4; maskOffset++) {
          const source = pseudoRandomBytes(length, length * 31 + alignment);
          const view = Buffer.from(backing, alignment, length);
          source.copy(view);
          const expected = Buffer.from(source);
          naiveMask(expected, mask, maskOffset, 0, length);
          applyMask(view, mask, maskOffset);
          assert.ok(view.equals(expected), `alignment ${alignment}, length ${length}, maskOffset ${maskOffset}`);
        }
      }
    }
  });

  test('applyMask on a sub-range leaves the bytes around it alone', () => {
    const mask = Buffer.from([1, 2, 4, 8]);
    for (let start = 0; start < 8; start++) {
      for (const length of [0, 3, 31, 32, 33, 64, 70]) {
        const data = pseudoRandomBytes(start + length + 9, start + length);
        const expected = Buffer.from(data);
        naiveMask(expected, mask, 2, start, start + length);
        applyMask(data, mask, 2, start, start + length);
        assert.ok(data.equals(expected), `start ${start}, length ${length}`);
      }
    }
  });

  test('unmasking chunk by chunk with the running offset equals unmasking at once', () => {
    const mask = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const data = pseudoRandomBytes(1000, 5);
    const whole = Buffer.from(data);
    applyMask(whole, mask);
    const pieces = Buffer.from(data);
    let done = 0;
    for (const size of [1, 2, 3, 37, 64, 5, 400, 488]) {
      applyMask(pieces.subarray(done, done + size), mask, done);
      done += size;
    }
    assert.ok(pieces.equals(whole));
  });

  test('masking twice restores the data', () => {
    const mask = Buffer.from([9, 8, 7, 6]);
    const data = pseudoRandomBytes(4099, 9);
    const copy = Buffer.from(data);
    applyMask(copy, mask, 1);
    applyMask(copy, mask, 1);
    assert.ok(copy.equals(data));
  });
});

describe('UTF-8 validation (§8.1, RFC 3629)', () => {
  const valid: Array<[string, number[]]> = [
    ['empty', []],
    ['ASCII', [...Buffer.from('Hello, world')]],
    ['two-byte é', [0xc3, 0xa9]],
    ['smallest two-byte U+0080', [0xc2, 0x80]],
    ['three-byte €', [0xe2, 0x82, 0xac]],
    ['smallest three-byte U+0800', [0xe0, 0xa0, 0x80]],
    ['last before surrogates U+D7FF', [0xed, 0x9f, 0xbf]],
    ['first after surrogates U+E000', [0xee, 0x80, 0x80]],
    ['U+FFFF', [0xef, 0xbf, 0xbf]],
    ['four-byte 😀', [0xf0, 0x9f, 0x98, 0x80]],
    ['smallest four-byte U+10000', [0xf0, 0x90, 0x80, 0x80]],
    ['largest U+10FFFF', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['κόσμε', [...Buffer.from('κόσμε')]],
  ];
  const invalid: Array<[string, number[]]> = [
    ['lone continuation', [0x80]],
    ['overlong / as C0 AF', [0xc0, 0xaf]],
    ['overlong C1 BF', [0xc1, 0xbf]],
    ['overlong three-byte E0 80 AF', [0xe0, 0x80, 0xaf]],
    ['overlong three-byte E0 9F BF', [0xe0, 0x9f, 0xbf]],
    ['overlong four-byte F0 80 80 AF', [0xf0, 0x80, 0x80, 0xaf]],
    ['overlong four-byte F0 8F BF BF', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['surrogate U+D800', [0xed, 0xa0, 0x80]],
    ['surrogate U+DBFF', [0xed, 0xaf, 0xbf]],
    ['surrogate U+DC00', [0xed, 0xb0, 0x80]],
    ['surrogate U+DFFF', [0xed, 0xbf, 0xbf]],
    ['surrogate pair encoded as two characters', [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80]],
    ['above U+10FFFF: F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
    ['lead byte F5', [0xf5, 0x80, 0x80, 0x80]],
    ['lead byte FF', [0xff]],
    ['lead byte FE', [0xfe]],
    ['missing continuation inside', [0xe2, 0x82, 0x41]],
    ['two-byte lead then ASCII', [0xc3, 0x41]],
    ['valid then invalid', [...Buffer.from('κόσμε'), 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]],
  ];
  const truncated: Array<[string, number[]]> = [
    ['two-byte lead at the end', [0x41, 0xc3]],
    ['three-byte, one continuation missing', [0xe2, 0x82]],
    ['four-byte, one continuation missing', [0xf0, 0x9f, 0x98]],
  ];

  /** Feed bytes cut at the given positions; 'valid', 'invalid' (push failed) or 'truncated' (finish failed). */
  function judge(bytes: number[], cuts: number[]): 'valid' | 'invalid' | 'truncated' {
    const validator = new Utf8Validator();
    const buffer = Buffer.from(bytes);
    let start = 0;
    for (const cut of [...cuts, buffer.length]) {
      if (!validator.push(buffer.subarray(start, cut))) return 'invalid';
      start = cut;
    }
    return validator.finish() ? 'valid' : 'truncated';
  }

  /** The verdict must not depend on where the bytes were split: whole, every 2-way split, byte by byte. */
  function judgeEverySplit(bytes: number[]): string {
    const whole = judge(bytes, []);
    for (let cut = 0; cut <= bytes.length; cut++) assert.equal(judge(bytes, [cut]), whole, `split at ${cut}`);
    assert.equal(judge(bytes, Array.from({ length: bytes.length }, (_, index) => index)), whole, 'byte by byte');
    return whole;
  }

  for (const [name, bytes] of valid) test(`valid: ${name}`, () => assert.equal(judgeEverySplit(bytes), 'valid'));
  for (const [name, bytes] of invalid) test(`invalid: ${name}`, () => assert.equal(judgeEverySplit(bytes), 'invalid'));
  for (const [name, bytes] of truncated) {
    test(`truncated at the end: ${name}`, () => assert.equal(judgeEverySplit(bytes), 'truncated'));
  }

  test('valid text padded past the native fast path, split inside every code point', () => {
    const text = Buffer.from('a'.repeat(40) + 'é€😀'.repeat(20) + 'z'.repeat(40));
    assert.equal(judgeEverySplit([...text]), 'valid');
  });

  test('the validator can be reused after finish()', () => {
    const validator = new Utf8Validator();
    assert.equal(validator.push(Buffer.from([0xe2, 0x82])), true);
    assert.equal(validator.finish(), false);
    assert.equal(validator.push(Buffer.from('fresh')), true);
    assert.equal(validator.finish(), true);
  });

  test('agrees with buffer.isUtf8 on 5,000 random inputs, in random splits', () => {
    let seed = 12345;
    const random = (limit: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % limit;
    };
    // Bias toward bytes that make UTF-8 interesting: lead bytes, continuations, ASCII.
    const palette = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    for (let round = 0; round < 5000; round++) {
      const length = random(24);
      const bytes = Array.from({ length }, () => (random(3) === 0 ? random(256) : palette[random(palette.length)]));
      const cut = random(length + 1);
      const verdict = judge(bytes, [cut]);
      assert.equal(verdict === 'valid', isUtf8(Buffer.from(bytes)), `bytes ${Buffer.from(bytes).toString('hex')} cut at ${cut}`);
    }
  });
});
