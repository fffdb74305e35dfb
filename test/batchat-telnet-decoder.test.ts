// Tests for the sans-I/O telnet line decoder (RFC 854/855/1143): line endings, IAC
// sequences, interrupts, the line-length cap and UTF-8, fed whole, byte by byte and split
// at every boundary — the decoder must not care how TCP cut the stream.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TelnetLineDecoder, utf8BoundaryAtOrBefore } from '../servers/batchat/telnet.ts';
import type { TelnetEvent } from '../servers/batchat/telnet.ts';

const IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240, IP = 244;
const NOP = 241, AYT = 246, EOF_ = 236;

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));

// Reply bytes as plain arrays so deepEqual compares contents, not Buffer vs Uint8Array.
const plain = (events: TelnetEvent[]) =>
  events.map((event) => (event.type === 'reply' ? { type: 'reply', bytes: [...event.bytes] } : event));

function decodeWhole(input: Buffer, maxLineBytes?: number) {
  const decoder = new TelnetLineDecoder(maxLineBytes);
  return plain([...decoder.push(input), ...decoder.finish()]);
}

function decodeByteByByte(input: Buffer, maxLineBytes?: number) {
  const decoder = new TelnetLineDecoder(maxLineBytes);
  const events: TelnetEvent[] = [];
  for (const byte of input) events.push(...decoder.push(Uint8Array.of(byte)));
  return plain([...events, ...decoder.finish()]);
}

/** Checks every way of feeding `input` (whole, byte by byte, two chunks split anywhere) agrees. */
function assertDecodes(input: Buffer, expected: unknown[], maxLineBytes?: number): void {
  assert.deepEqual(decodeWhole(input, maxLineBytes), expected, 'fed whole');
  assert.deepEqual(decodeByteByByte(input, maxLineBytes), expected, 'fed byte by byte');
  for (let cut = 1; cut < input.length; cut++) {
    const decoder = new TelnetLineDecoder(maxLineBytes);
    const events = [...decoder.push(input.subarray(0, cut)), ...decoder.push(input.subarray(cut)), ...decoder.finish()];
    assert.deepEqual(plain(events), expected, `split at byte ${cut}`);
  }
}

const line = (text: string, truncated = false) => ({ type: 'line', text, truncated });
const reply = (...replyBytes: number[]) => ({ type: 'reply', bytes: replyBytes });
const interrupt = (cause: string) => ({ type: 'interrupt', cause });

describe('TelnetLineDecoder: line endings', () => {
  test('CRLF (telnet), LF (nc) and CR NUL (RFC 854 bare CR) each end one line', () => {
    assertDecodes(bytes('one\r\ntwo\nthree\r\0four\r\n'), [line('one'), line('two'), line('three'), line('four')]);
  });

  test('a bare CR followed by text ends the line and starts the next', () => {
    assertDecodes(bytes('one\rtwo\n'), [line('one'), line('two')]);
  });

  test('empty lines are reported (the session decides to ignore them)', () => {
    assertDecodes(bytes('\r\n\n'), [line(''), line('')]);
  });

  test('finish() delivers a last line typed without Enter, and nothing when there is none', () => {
    assertDecodes(bytes('done\nhalf'), [line('done'), line('half')]);
    const decoder = new TelnetLineDecoder();
    assert.deepEqual(decoder.finish(), []);
  });
});

describe('TelnetLineDecoder: IAC sequences never reach the text', () => {
  test('WILL/WONT/DO/DONT with their option byte are consumed', () => {
    assertDecodes(bytes('he', [IAC, WONT, 1], 'l', [IAC, DONT, 3], 'lo\n'), [line('hello')]);
  });

  test('DO and WILL are refused (RFC 1143: we support no options); WONT/DONT need no answer', () => {
    assertDecodes(bytes([IAC, DO, 1, IAC, WILL, 31, IAC, WONT, 5, IAC, DONT, 24], 'x\n'), [
      reply(IAC, WONT, 1),
      reply(IAC, DONT, 31),
      line('x'),
    ]);
  });

  test('subnegotiation IAC SB ... IAC SE is consumed, including IAC IAC inside it', () => {
    assertDecodes(bytes('a', [IAC, SB, 24, 0], 'xterm', [IAC, IAC, 7, IAC, SE], 'b\n'), [line('ab')]);
  });

  test('a subnegotiation may contain CR and LF without ending a line', () => {
    assertDecodes(bytes('a', [IAC, SB, 31, 13, 10, 0, IAC, SE], 'b\n'), [line('ab')]);
  });

  test('IAC IAC is a literal 255 byte, which is not UTF-8 and so shows as U+FFFD', () => {
    assertDecodes(bytes('a', [IAC, IAC], 'b\n'), [line('a\ufffdb')]);
  });

  test('other commands (NOP, AYT) are swallowed', () => {
    assertDecodes(bytes('a', [IAC, NOP], 'b', [IAC, AYT], 'c\n'), [line('abc')]);
  });
});

describe('TelnetLineDecoder: interrupts end the session', () => {
  test('IAC IP (telnet Ctrl-C) interrupts; later bytes are ignored', () => {
    assertDecodes(bytes('first\nsec', [IAC, IP], 'ond\nthird\n'), [line('first'), interrupt('IAC IP')]);
  });

  test('a raw Ctrl-C (0x03) or Ctrl-D (0x04) byte interrupts', () => {
    assertDecodes(bytes('hi\n\x03more\n'), [line('hi'), interrupt('Ctrl-C')]);
    assertDecodes(bytes('\x04'), [interrupt('Ctrl-D')]);
  });

  test('IAC EOF (RFC 1184) interrupts', () => {
    assertDecodes(bytes([IAC, EOF_]), [interrupt('IAC EOF')]);
  });
});

describe('TelnetLineDecoder: length limit', () => {
  test('a long line is cut at the limit and flagged; the next line is whole again', () => {
    assertDecodes(bytes('abcdefghij\nxyz\n'), [line('abcd', true), line('xyz')], 4);
  });

  test('a line exactly at the limit is not flagged', () => {
    assertDecodes(bytes('abcd\n'), [line('abcd')], 4);
  });

  test('a cut inside a multi-byte character drops its partial bytes instead of showing U+FFFD', () => {
    // "ab€" is 61 62 E2 82 AC; with a 4-byte limit only "ab" is whole.
    assertDecodes(bytes('ab€cd\n'), [line('ab', true)], 4);
  });

  test('a megabyte without a newline still produces one capped line', () => {
    const decoder = new TelnetLineDecoder(1024);
    const events: TelnetEvent[] = [];
    for (let i = 0; i < 16; i++) events.push(...decoder.push(Buffer.alloc(65536, 'x')));
    assert.deepEqual(events, []);
    assert.deepEqual(decoder.push(bytes('\n')), [line('x'.repeat(1024), true)]);
  });

  test('rejects a nonsensical limit', () => {
    assert.throws(() => new TelnetLineDecoder(0), RangeError);
  });
});

describe('TelnetLineDecoder: UTF-8', () => {
  test('multi-byte characters survive any split', () => {
    assertDecodes(bytes('héllo wörld 日本 🦇\r\n'), [line('héllo wörld 日本 🦇')]);
  });

  test('invalid UTF-8 becomes U+FFFD rather than an error', () => {
    assertDecodes(bytes('a', [0xc3], 'b\n'), [line('a\ufffdb')]);
  });
});

describe('utf8BoundaryAtOrBefore', () => {
  const bat = Buffer.from('a🦇', 'utf8'); // 61 F0 9F A6 87
  test('keeps complete characters and cuts before incomplete ones', () => {
    assert.equal(utf8BoundaryAtOrBefore(bat, 5), 5);
    assert.equal(utf8BoundaryAtOrBefore(bat, 4), 1);
    assert.equal(utf8BoundaryAtOrBefore(bat, 2), 1);
    assert.equal(utf8BoundaryAtOrBefore(bat, 1), 1);
    assert.equal(utf8BoundaryAtOrBefore(bat, 0), 0);
  });
});
