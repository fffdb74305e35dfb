// Hostile and random replies, deterministic: a seeded PRNG builds thousands of reply trees, serializes
// them with a naive reference writer, and feeds them to the reply parser in random splits — the values
// must come back equal. Then the same streams damaged (bit flips, insertions, cuts, wild lengths): the
// parser may refuse them, but only with a RedisProtocolError, and never holds more than its limits.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisProtocolError, RedisReplyError } from '../lib/redis/errors.ts';
import { ReplyParser, type RedisReply } from '../lib/redis/reply-parser.ts';
import { mutate, prng, randomBytes, type Random } from './helpers/prng.ts';

const LIMITS = { maxBulkBytes: 64 * 1024, maxArrayLength: 1000, maxDepth: 8, maxLineBytes: 256, maxReplyBytes: 96 * 1024 };

/** Text without CR or LF, as simple strings and errors must be. */
function randomLine(random: Random): string {
  const alphabet = 'abcXYZ 019_-:é€';
  let text = '';
  for (let length = random(30); length > 0; length--) text += alphabet[random(alphabet.length)];
  return text;
}

function randomReply(random: Random, depth: number): RedisReply {
  switch (random(depth < 4 ? 8 : 6)) {
    case 0: return randomLine(random);
    case 1: return new RedisReplyError(`${['ERR', 'WRONGTYPE', 'NOSCRIPT'][random(3)]} ${randomLine(random)}`);
    case 2: return random(2) === 0 ? random(1000) - 500 : random(2 ** 31) * (random(2) === 0 ? 1 : -1) * 1000;
    case 3: return null;
    case 4: return randomBytes(random, random(4) === 0 ? random(5000) : random(20));
    case 5: return Buffer.from('\r\n$*+-:\r\n');
    default: return Array.from({ length: random(6) }, () => randomReply(random, depth + 1));
  }
}

/** The reference writer: plain, obviously right, slow. */
function serialize(reply: RedisReply, nullArray = false): Buffer {
  if (reply === null) return Buffer.from(nullArray ? '*-1\r\n' : '$-1\r\n');
  if (typeof reply === 'string') return Buffer.from(`+${reply}\r\n`);
  if (typeof reply === 'number') return Buffer.from(`:${reply}\r\n`);
  if (reply instanceof RedisReplyError) return Buffer.from(`-${reply.message}\r\n`);
  if (Buffer.isBuffer(reply)) return Buffer.concat([Buffer.from(`$${reply.length}\r\n`), reply, Buffer.from('\r\n')]);
  return Buffer.concat([Buffer.from(`*${reply.length}\r\n`), ...reply.map((item) => serialize(item))]);
}

function plain(reply: RedisReply): unknown {
  if (reply instanceof RedisReplyError) return { error: reply.message };
  if (Buffer.isBuffer(reply)) return { bulk: reply.toString('hex') };
  if (Array.isArray(reply)) return reply.map(plain);
  return reply;
}

/** Damage a stream: flip bits, insert or delete bytes, cut it short, or insert a hostile header. */
const HOSTILE_HEADERS = ['*99999\r\n', '$70000\r\n', '*1\r\n'.repeat(20), '%2\r\n', ':-\r\n'];
function mutateReplies(random: Random, stream: Buffer): Buffer {
  return mutate(random, stream, (bytes, at) => Buffer.concat([bytes.subarray(0, at), Buffer.from(HOSTILE_HEADERS[random(HOSTILE_HEADERS.length)]), bytes.subarray(at)]));
}

/** Feed in random splits; returns the replies, or the protocol error that stopped the parser. */
function feed(random: Random, stream: Buffer, label: string): { replies: RedisReply[]; error?: RedisProtocolError } {
  const parser = new ReplyParser(LIMITS);
  const replies: RedisReply[] = [];
  let offset = 0;
  while (offset < stream.length) {
    const size = 1 + random(random(3) === 0 ? 8 : 2000);
    try {
      parser.push(stream.subarray(offset, offset + size), replies);
    } catch (error) {
      assert.ok(error instanceof RedisProtocolError, `${label}: threw ${String(error)}`);
      return { replies, error };
    }
    offset += size;
    assert.ok(parser.bufferedBytes <= LIMITS.maxReplyBytes, `${label}: holds ${parser.bufferedBytes} bytes`);
  }
  return { replies };
}

describe('reply parser fuzz (seeded)', () => {
  test('3,000 random reply streams in random splits parse back to the values written', () => {
    const random = prng(0x5eed_0015);
    for (let round = 0; round < 3000; round++) {
      const values = Array.from({ length: 1 + random(6) }, () => randomReply(random, 1));
      const stream = Buffer.concat(values.map((value) => serialize(value, random(2) === 0)));
      const { replies, error } = feed(random, stream, `round ${round}`);
      assert.equal(error, undefined, `round ${round}: ${error?.message}`);
      assert.deepEqual(replies.map(plain), values.map(plain), `round ${round}`);
    }
  });

  test('3,000 damaged streams: only RedisProtocolError, memory within the limits, and intact replies before the damage', () => {
    const random = prng(0xbad_c0de);
    const outcomes = { parsed: 0, refused: 0 };
    for (let round = 0; round < 3000; round++) {
      const values = Array.from({ length: 1 + random(6) }, () => randomReply(random, 1));
      const pieces = values.map((value) => serialize(value));
      const stream = Buffer.concat(pieces);
      const damaged = mutateReplies(random, stream);
      const { replies, error } = feed(random, damaged, `round ${round}`);
      outcomes[error ? 'refused' : 'parsed']++;
      // Whatever the damage, replies lying wholly before the first changed byte come out as written.
      let firstDifference = 0;
      while (firstDifference < damaged.length && firstDifference < stream.length && damaged[firstDifference] === stream[firstDifference]) firstDifference++;
      let intact = 0;
      for (let end = 0; intact < pieces.length && end + pieces[intact].length <= firstDifference; intact++) end += pieces[intact].length;
      assert.deepEqual(replies.slice(0, intact).map(plain), values.slice(0, intact).map(plain), `round ${round}`);
    }
    // Both kinds of outcome were exercised.
    assert.ok(outcomes.parsed > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
  });

  test('random bytes are refused cleanly', () => {
    const random = prng(42);
    for (let round = 0; round < 2000; round++) feed(random, randomBytes(random, 1 + random(3000)), `round ${round}`);
  });
});
