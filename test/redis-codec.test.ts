// The RESP2 codec on its own, no sockets: the reply parser fed every split a socket could produce, its
// limits against a hostile server, the command encoder (checked by parsing its output back: a command
// is an array of bulk strings), and Redis URLs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeCommands, LARGE_ARGUMENT_BYTES, type CommandArgument } from '../lib/redis/command-encoder.ts';
import { RedisConnectionError, RedisProtocolError, RedisReplyError } from '../lib/redis/errors.ts';
import { DEFAULT_REPLY_LIMITS, ReplyParser, VALUE_OVERHEAD_BYTES, type RedisReply, type ReplyParserLimits } from '../lib/redis/reply-parser.ts';
import { parseRedisUrl, redact } from '../lib/redis/url.ts';

function parseAll(stream: Buffer, cuts: number[] = [], limits?: Partial<ReplyParserLimits>): RedisReply[] {
  const parser = new ReplyParser(limits);
  const replies: RedisReply[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    parser.push(stream.subarray(start, cut), replies);
    start = cut;
  }
  assert.ok(parser.idle, 'the stream ended on a reply boundary');
  return replies;
}

/** Replies compared by value: errors by message, Buffers by bytes. */
function plain(reply: RedisReply): unknown {
  if (reply instanceof RedisReplyError) return { error: reply.message, prefix: reply.prefix };
  if (Buffer.isBuffer(reply)) return { bulk: reply.toString('latin1') };
  if (Array.isArray(reply)) return reply.map(plain);
  return reply;
}

const big = Buffer.alloc(70_000, 0x62);
const SAMPLES: { wire: string | Buffer; reply: RedisReply }[] = [
  { wire: '+OK\r\n', reply: 'OK' },
  { wire: '+\r\n', reply: '' },
  { wire: '+héllo wörld\r\n', reply: 'héllo wörld' },
  { wire: '-ERR unknown command \'FOO\'\r\n', reply: new RedisReplyError("ERR unknown command 'FOO'") },
  { wire: '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n', reply: new RedisReplyError('WRONGTYPE Operation against a key holding the wrong kind of value') },
  { wire: ':0\r\n', reply: 0 },
  { wire: ':-42\r\n', reply: -42 },
  { wire: ':9007199254740991\r\n', reply: 9007199254740991 },
  { wire: '$5\r\nhello\r\n', reply: Buffer.from('hello') },
  { wire: '$0\r\n\r\n', reply: Buffer.alloc(0) },
  { wire: '$-1\r\n', reply: null },
  { wire: '$4\r\n\r\n\r\n\r\n', reply: Buffer.from('\r\n\r\n') },
  { wire: '*-1\r\n', reply: null },
  { wire: '*0\r\n', reply: [] },
  { wire: '*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n', reply: [1, Buffer.from('foo'), 'bar'] },
  { wire: '*2\r\n*2\r\n:1\r\n*0\r\n*3\r\n$-1\r\n-ERR inside\r\n*1\r\n*-1\r\n', reply: [[1, []], [null, new RedisReplyError('ERR inside'), [null]]] },
  { wire: Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n')]), reply: big },
];

describe('reply parser (RESP2)', () => {
  test('each reply type decodes to its value', () => {
    for (const { wire, reply } of SAMPLES) {
      assert.deepEqual(parseAll(Buffer.from(wire)).map(plain), [plain(reply)], String(wire).slice(0, 40));
    }
  });

  test('an error reply carries its prefix; a message without an upper-case word gets ERR', () => {
    const [reply] = parseAll(Buffer.from('-NOSCRIPT No matching script\r\n-oops lower case\r\n')) as RedisReplyError[];
    assert.equal(reply.prefix, 'NOSCRIPT');
    assert.equal((parseAll(Buffer.from('-oops lower case\r\n'))[0] as RedisReplyError).prefix, 'ERR');
  });

  test('a stream of every sample parses the same cut at every single byte, and at every pair of bytes', () => {
    const small = SAMPLES.filter((sample) => sample.wire.length < 1000);
    const stream = Buffer.concat(small.map((sample) => Buffer.from(sample.wire)));
    const expected = small.map((sample) => plain(sample.reply));
    for (let cut = 0; cut <= stream.length; cut++) assert.deepEqual(parseAll(stream, [cut]).map(plain), expected, `cut at ${cut}`);
    for (let first = 0; first <= stream.length; first += 3) {
      for (let second = first; second <= stream.length; second++) {
        assert.deepEqual(parseAll(stream, [first, second]).map(plain), expected, `cuts at ${first}, ${second}`);
      }
    }
  });

  test('byte by byte, every sample comes out whole', () => {
    const stream = Buffer.concat(SAMPLES.map((sample) => Buffer.from(sample.wire)));
    const cuts = Array.from({ length: stream.length - 1 }, (_, index) => index + 1);
    assert.deepEqual(parseAll(stream, cuts).map(plain), SAMPLES.map((sample) => plain(sample.reply)));
  });

  test('a bulk string in many pieces is written into one buffer of its announced length, allocated once', () => {
    const parser = new ReplyParser();
    const replies: RedisReply[] = [];
    const body = Buffer.alloc(1_000_000, 0x78);
    const header = Buffer.from(`$${body.length}\r\n`);
    parser.push(header, replies);
    assert.equal(parser.bufferedBytes, header.length + body.length, 'the buffer of the announced length is there from the header on');
    for (let offset = 0; offset < body.length; offset += 1000) {
      parser.push(body.subarray(offset, offset + 1000), replies);
      assert.equal(parser.bufferedBytes, header.length + body.length, 'no growth, no concatenation');
    }
    parser.push(Buffer.from('\r\n'), replies);
    assert.equal(replies.length, 1);
    assert.ok((replies[0] as Buffer).equals(body));
    assert.equal(parser.bufferedBytes, 0);
  });

  test('a bulk string is a copy, not a view of the socket chunk (a kept value does not pin the chunk)', () => {
    const chunk = Buffer.from('$3\r\nabc\r\n');
    const [reply] = parseAll(chunk) as Buffer[];
    chunk.fill(0);
    assert.equal(reply.toString(), 'abc');
  });

  test('arrays nested 100,000 deep are refused by the depth limit, not by a stack overflow', () => {
    const deep = Buffer.from('*1\r\n'.repeat(100_000) + ':1\r\n');
    assert.throws(() => parseAll(deep), (error: unknown) => error instanceof RedisProtocolError && /nested deeper than 64/.test(error.message));
    // Within the limit, depth is fine.
    const ok = parseAll(Buffer.from('*1\r\n'.repeat(64) + ':1\r\n'));
    let value: unknown = ok[0];
    for (let depth = 0; depth < 64; depth++) value = (value as unknown[])[0];
    assert.equal(value, 1);
  });

  const refusals: [string, string | Buffer, RegExp, Partial<ReplyParserLimits>?][] = [
    ['an announced bulk string over the limit, before allocating it', '$600000000\r\n', /bulk string of 600000000 bytes is over the limit/],
    ['an announced array over the limit', '*99999999999\r\n', /array of 99999999999 elements is over the limit/],
    ['a line over the limit', `+${'x'.repeat(100)}\r\n`, /longer than 50 bytes/, { maxLineBytes: 50 }],
    ['a line over the limit that never ends', `+${'x'.repeat(100)}`, /longer than 50 bytes/, { maxLineBytes: 50 }],
    ['a RESP3 map', '%1\r\n+a\r\n+b\r\n', /RESP3 reply type '%'/],
    ['a RESP3 null', '_\r\n', /RESP3 reply type '_'/],
    ['an unknown type byte', '?x\r\n', /unknown reply type byte 0x3f/],
    ['a line ended by LF alone', '+OK\n', /must end in CRLF/],
    ['a bulk string not followed by CRLF', '$3\r\nabcd\r\n', /followed by CRLF/],
    ['an integer with letters', ':12a\r\n', /invalid integer "12a"/],
    ['an empty integer', ':\r\n', /empty integer/],
    ['a negative bulk length other than -1', '$-2\r\n', /invalid bulk string length -2/],
    ['a negative array length other than -1', '*-5\r\n', /invalid array length -5/],
  ];
  for (const [what, wire, message, limits] of refusals) {
    test(`refuses ${what} with a RedisProtocolError, at any split`, () => {
      const stream = Buffer.from(wire);
      for (let cut = 0; cut <= stream.length; cut++) {
        const parser = new ReplyParser(limits);
        assert.throws(() => {
          parser.push(stream.subarray(0, cut), []);
          parser.push(stream.subarray(cut), []);
        }, (error: unknown) => error instanceof RedisProtocolError && message.test(error.message), `cut at ${cut}`);
        assert.ok(parser.bufferedBytes <= 1024, 'nothing big was allocated');
      }
    });
  }

  test('one reply is bounded in total by maxReplyBytes, elements and their overhead counted, at any split', () => {
    const manySmall = Buffer.from(`*100000\r\n${':1\r\n'.repeat(100_000)}`);
    const fewLarge = Buffer.from(`*3\r\n${`$4000\r\n${'x'.repeat(4000)}\r\n`.repeat(3)}`);
    for (const stream of [manySmall, fewLarge]) {
      for (const cut of [0, 1, 7, 5000, stream.length - 3]) {
        const parser = new ReplyParser({ maxReplyBytes: 10_000 });
        assert.throws(() => {
          parser.push(stream.subarray(0, cut), []);
          parser.push(stream.subarray(cut), []);
        }, (error: unknown) => error instanceof RedisProtocolError && /a reply larger than 10000 bytes/.test(error.message), `cut at ${cut}`);
        // At most one step past the limit: a line or a piece of a bulk string already allocated.
        assert.ok(parser.bufferedBytes <= 10_000 + DEFAULT_REPLY_LIMITS.maxLineBytes + VALUE_OVERHEAD_BYTES, `holds ${parser.bufferedBytes}`);
      }
    }
    // Replies under the limit, one after another, each start the count afresh.
    const parser = new ReplyParser({ maxReplyBytes: 10_000 });
    const replies: RedisReply[] = [];
    for (let round = 0; round < 10; round++) parser.push(Buffer.from(`*200\r\n${':1\r\n'.repeat(200)}`), replies);
    assert.equal(replies.length, 10);
  });

  test('replies completed before a fault are delivered', () => {
    const replies: RedisReply[] = [];
    assert.throws(() => new ReplyParser().push(Buffer.from('+OK\r\n:5\r\n!oops\r\n'), replies), RedisProtocolError);
    assert.deepEqual(replies, ['OK', 5]);
  });
});

describe('command encoder', () => {
  /** Parse the encoder's output back: each command must come out as an array of bulk strings. */
  function roundTrip(commands: CommandArgument[][]): string[][] {
    const replies = parseAll(Buffer.concat(encodeCommands(commands)));
    return replies.map((reply) => (reply as Buffer[]).map((bulk) => bulk.toString('utf8')));
  }

  test('strings (UTF-8), numbers and Buffers encode as RESP arrays of bulk strings', () => {
    assert.equal(Buffer.concat(encodeCommands([['SET', 'key', 'value']])).toString(), '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n');
    assert.deepEqual(roundTrip([['SET', 'clé', '😀 €', 'EX', 60], ['INCRBY', 'n', -12.5], ['SET', Buffer.from('b'), Buffer.alloc(0)], ['PING']]), [
      ['SET', 'clé', '😀 €', 'EX', '60'], ['INCRBY', 'n', '-12.5'], ['SET', 'b', ''], ['PING'],
    ]);
  });

  test('a batch is one Buffer', () => {
    const commands = Array.from({ length: 1000 }, (_, index) => ['SET', `key:${index}`, 'x'.repeat(index % 300)]);
    const buffers = encodeCommands(commands);
    assert.equal(buffers.length, 1);
    assert.deepEqual(roundTrip(commands), commands);
  });

  test('lengths of every digit count are written right', () => {
    const commands = [1, 9, 10, 99, 100, 999, 1000, 12345, 65535].map((length) => ['SET', 'k', 'v'.repeat(length)]);
    assert.deepEqual(roundTrip(commands), commands);
    const wide = Array.from({ length: 12 }, (_, index) => `a${index}`);
    assert.deepEqual(roundTrip([wide]), [wide]);
  });

  test('a large Buffer argument is passed by reference, not copied, between the pieces of the batch', () => {
    const large = Buffer.alloc(LARGE_ARGUMENT_BYTES, 0x7a);
    const buffers = encodeCommands([['SET', 'a', '1'], ['SET', 'big', large], ['GET', 'a']]);
    assert.equal(buffers.length, 3);
    assert.equal(buffers[1], large);
    const replies = parseAll(Buffer.concat(buffers)) as Buffer[][];
    assert.ok(replies[1][2].equals(large));
    assert.equal(replies[2][0].toString(), 'GET');
  });
});

describe('Redis URLs', () => {
  test('host, port, database, TLS and percent-decoded credentials', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/3'), { host: '127.0.0.1', port: 6380, tls: false, username: undefined, password: undefined, db: 3 });
    assert.deepEqual(parseRedisUrl('rediss://alice:p%40ss%3Aw%2Frd@cache.example:7000'), { host: 'cache.example', port: 7000, tls: true, username: 'alice', password: 'p@ss:w/rd', db: 0 });
    assert.deepEqual(parseRedisUrl('redis://:secret@localhost'), { host: 'localhost', port: 6379, tls: false, username: undefined, password: 'secret', db: 0 });
    assert.deepEqual(parseRedisUrl('redis://secret@localhost/'), { host: 'localhost', port: 6379, tls: false, username: undefined, password: 'secret', db: 0 });
    assert.equal(parseRedisUrl('redis://[::1]:6379').host, '::1');
  });

  for (const [url, why] of [['http://localhost', /scheme http/], ['not a url', /not a URL/], ['redis://localhost/abc', /database "abc"/], ['redis://u:%zz@localhost', /percent-encoding/]] as const) {
    test(`refuses ${url} with INVALID_URL`, () => {
      assert.throws(() => parseRedisUrl(url), (error: unknown) => error instanceof RedisConnectionError && error.code === 'INVALID_URL' && why.test(error.message));
    });
  }

  test('messages never show the password', () => {
    assert.equal(redact('redis://alice:hunter2@host:1/2'), 'redis://alice:***@host:1/2');
    assert.throws(() => parseRedisUrl('redis://alice:hunter2@host/x'), (error: Error) => !error.message.includes('hunter2'));
  });
});
