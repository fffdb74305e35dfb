import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, type ParsedRequest, type ParseError } from '../lib/http/parser.ts';
import type { HttpLimits } from '../lib/http/limits.ts';
import { seededRandom } from './http-test-helpers.ts';

interface Outcome { requests: ParsedRequest[]; error: ParseError | undefined }

/** Feed `input` split at the given offsets and gather everything the parser produced. */
function parseSplit(input: Buffer, cuts: number[], limits?: Partial<HttpLimits>): Outcome {
  const parser = new RequestParser(limits);
  const requests: ParsedRequest[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    requests.push(...parser.feed(input.subarray(start, cut)));
    start = cut;
  }
  return { requests, error: parser.error };
}

function parseWhole(input: string | Buffer, limits?: Partial<HttpLimits>): Outcome {
  return parseSplit(Buffer.from(input), [], limits);
}

/** Comparable summary of an outcome: what a server would act on. */
function summary(outcome: Outcome): unknown {
  return {
    requests: outcome.requests.map((request) => ({ ...request, headers: { ...request.headers }, body: request.body.toString('latin1') })),
    error: outcome.error?.status,
  };
}

/** The same outcome whole, one byte at a time, and cut in two at every position. */
function assertSplitInvariant(input: string): Outcome {
  const bytes = Buffer.from(input, 'latin1');
  const whole = parseWhole(bytes);
  const expected = summary(whole);
  const everyByte = Array.from({ length: bytes.length - 1 }, (_, index) => index + 1);
  assert.deepEqual(summary(parseSplit(bytes, everyByte)), expected, 'one byte at a time');
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(summary(parseSplit(bytes, [cut])), expected, `split at byte ${cut}`);
  }
  return whole;
}

const GET = 'GET /hello?name=world HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\nX-Tag: one\r\nx-tag: two\r\n\r\n';
const POST = 'POST /submit HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\n\r\nhello world';
const CHUNKED = 'POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;name=value\r\nhello\r\n6 ; other\r\n world\r\n0\r\nTrailer-Field: ignored\r\n\r\n';

test('a GET request parses the same whole, byte by byte and split anywhere', () => {
  const { requests, error } = assertSplitInvariant(GET);
  assert.equal(error, undefined);
  assert.equal(requests.length, 1);
  const request = requests[0]!;
  assert.equal(request.method, 'GET');
  assert.equal(request.target, '/hello?name=world');
  assert.equal(request.httpVersion, '1.1');
  assert.equal(request.headers['host'], 'example.test');
  assert.equal(request.headers['x-tag'], 'one, two', 'repeated header names are case-insensitive and joined');
  assert.equal(request.body.length, 0);
  assert.equal(request.keepAlive, true);
});

test('a Content-Length body is read exactly, split anywhere', () => {
  const { requests } = assertSplitInvariant(POST);
  assert.equal(requests[0]!.body.toString(), 'hello world');
});

test('a chunked body is reassembled; chunk extensions and trailers are skipped', () => {
  const { requests, error } = assertSplitInvariant(CHUNKED);
  assert.equal(error, undefined);
  assert.equal(requests[0]!.body.toString(), 'hello world');
  assert.equal(requests[0]!.headers['trailer-field'], undefined, 'trailers are not merged into headers');
});

test('pipelined requests in one chunk come out in order, split anywhere', () => {
  const { requests } = assertSplitInvariant(GET + POST + CHUNKED + GET);
  assert.deepEqual(requests.map((request) => request.target), ['/hello?name=world', '/submit', '/upload', '/hello?name=world']);
  assert.deepEqual(requests.map((request) => request.body.toString()), ['', 'hello world', 'hello world', '']);
});

test('persistence: HTTP/1.1 keeps alive unless Connection: close; HTTP/1.0 closes unless keep-alive', () => {
  const keepAlive = (head: string) => parseWhole(head + '\r\n').requests[0]!.keepAlive;
  assert.equal(keepAlive('GET / HTTP/1.1\r\nHost: a\r\n'), true);
  assert.equal(keepAlive('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n'), false);
  assert.equal(keepAlive('GET / HTTP/1.0\r\n'), false);
  assert.equal(keepAlive('GET / HTTP/1.0\r\nConnection: keep-alive\r\n'), true);
});

test('after Connection: close the parser reads no further request', () => {
  const { requests } = parseWhole('GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.deepEqual(requests.map((request) => request.target), ['/a']);
});

test('an empty line before the request line is ignored (RFC 9112 §2.2)', () => {
  const { requests, error } = parseWhole('\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(error, undefined);
  assert.equal(requests.length, 1);
});

test('identical repeated Content-Length values are accepted', () => {
  const { requests, error } = parseWhole('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc');
  assert.equal(error, undefined);
  assert.equal(requests[0]!.body.toString(), 'abc');
});

test('a Content-Length with leading zeros is a valid length (RFC 9110 §8.6), also repeated with other padding', () => {
  const { requests, error } = parseWhole('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000000000000003\r\nContent-Length: 03\r\n\r\nabc');
  assert.equal(error, undefined, error?.reason);
  assert.equal(requests[0]!.body.toString(), 'abc');
  const zero = parseWhole('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 00000000000000000000\r\n\r\n');
  assert.equal(zero.error, undefined, zero.error?.reason);
  assert.equal(zero.requests[0]!.body.length, 0);
});

test('whitespace after a chunk-size is allowed only before a chunk extension (BWS)', () => {
  const outcome = assertSplitInvariant('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \t;name=value\r\nabc\r\n0\r\n\r\n');
  assert.equal(outcome.error, undefined, outcome.error?.reason);
  assert.equal(outcome.requests[0]!.body.toString(), 'abc');
});

test('a WebSocket upgrade stops the parser and keeps the bytes that follow', () => {
  const parser = new RequestParser();
  const requests = parser.feed(Buffer.from('GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00', 'latin1'));
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.upgrade, true);
  assert.equal(parser.upgraded, true);
  assert.deepEqual(parser.feed(Buffer.from('more')), []);
  assert.deepEqual([...parser.takeUpgradeHead()], [0x81, 0x00, ...Buffer.from('more')]);
});

const small: Partial<HttpLimits> = { maxRequestLineBytes: 64, maxHeaderBytes: 256, maxHeaderCount: 5, maxBodyBytes: 16 };
const host = 'Host: a\r\n';

const malformed: [string, string, number, Partial<HttpLimits>?][] = [
  ['request line over the limit', `GET /${'a'.repeat(100)} HTTP/1.1\r\n${host}\r\n`, 414, small],
  ['header section over the limit', `GET / HTTP/1.1\r\n${host}X-Big: ${'b'.repeat(300)}\r\n\r\n`, 431, small],
  ['too many header fields', `GET / HTTP/1.1\r\n${host}${'X-A: 1\r\n'.repeat(6)}\r\n`, 431, small],
  ['Content-Length over the body limit', `POST / HTTP/1.1\r\n${host}Content-Length: 17\r\n\r\n`, 413, small],
  ['a Content-Length of 30 digits', `POST / HTTP/1.1\r\n${host}Content-Length: ${'9'.repeat(30)}\r\n\r\n`, 413],
  ['chunked body over the limit', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n10\r\n${'x'.repeat(16)}\r\n1\r\n`, 413, small],
  ['two spaces in the request line', `GET  / HTTP/1.1\r\n${host}\r\n`, 400],
  ['a request line without a version', `GET /\r\n${host}\r\n`, 400],
  ['a lower-case version', `GET / http/1.1\r\n${host}\r\n`, 400],
  ['both Content-Length and Transfer-Encoding', `POST / HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ['conflicting Content-Length list', `POST / HTTP/1.1\r\n${host}Content-Length: 5, 6\r\n\r\n`, 400],
  ['duplicated, different Content-Length', `POST / HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, 400],
  ['a negative Content-Length', `POST / HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`, 400],
  ['a bad chunk size', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, 400],
  ['chunk data longer than announced', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n`, 400],
  ['obs-fold continuation line', `GET / HTTP/1.1\r\n${host}X-A: 1\r\n  folded\r\n\r\n`, 400],
  ['space before the colon', `GET / HTTP/1.1\r\n${host}X-A : 1\r\n\r\n`, 400],
  ['a bare CR inside a header line', `GET / HTTP/1.1\r\n${host}X-A: 1\rX-B: 2\r\n\r\n`, 400],
  ['a bare LF line ending', `GET / HTTP/1.1\n${host}\r\n`, 400],
  ['a NUL in a header value', `GET / HTTP/1.1\r\n${host}X-A: a\0b\r\n\r\n`, 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Host headers', `GET / HTTP/1.1\r\n${host}${host}\r\n`, 400],
  ['chunked not the final coding', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['an unknown transfer coding', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n`, 501],
  ['a space between chunk-size and CRLF (RFC 9112 §7.1)', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n1 \r\nX\r\n0\r\n\r\n`, 400],
  ['a tab between chunk-size and CRLF', `POST / HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n1\t\r\nX\r\n0\r\n\r\n`, 400],
  ['a Content-Length too large for any number', `POST / HTTP/1.1\r\n${host}Content-Length: 0${'9'.repeat(400)}\r\n\r\n`, 413],
  ['HTTP/2.0 in the request line', `GET / HTTP/2.0\r\n${host}\r\n`, 505],
  ['HTTP/1.2 in the request line', `GET / HTTP/1.2\r\n${host}\r\n`, 505],
];

for (const [name, input, status, limits] of malformed) {
  test(`${name} → ${status}, also when fed byte by byte`, () => {
    const whole = parseWhole(input, limits);
    assert.equal(whole.error?.status, status, whole.error?.reason);
    assert.equal(whole.requests.length, 0);
    const bytes = Buffer.from(input);
    const byByte = parseSplit(bytes, Array.from({ length: bytes.length - 1 }, (_, index) => index + 1), limits);
    assert.equal(byByte.error?.status, status);
  });
}

test('requests before a malformed one are still delivered', () => {
  const { requests, error } = parseWhole(GET + 'BAD REQUEST\r\n\r\n');
  assert.equal(requests.length, 1);
  assert.equal(error?.status, 400);
});

test('fuzz: mutated and random input never throws, stays within limits, and parses the same however it is split', () => {
  const random = seededRandom(0x5eed);
  const limits: Partial<HttpLimits> = { maxRequestLineBytes: 128, maxHeaderBytes: 512, maxHeaderCount: 10, maxBodyBytes: 256 };
  const bound = 128 + 512 + 256;
  const seeds = [GET, POST, CHUNKED, GET + POST, 'GET / HTTP/1.0\r\n\r\n'].map((text) => Buffer.from(text));
  const interesting = Buffer.from('\r\n :;,\t\0\x7f\xff0123456789abcdefHTTP/1.chunked');
  const allowedStatuses = new Set([400, 413, 414, 431, 501, 505]);
  for (let round = 0; round < 4000; round++) {
    const input = Buffer.from(seeds[Math.floor(random() * seeds.length)]!);
    const mutations = 1 + Math.floor(random() * 4);
    let bytes: Buffer = input;
    for (let mutation = 0; mutation < mutations; mutation++) {
      const at = Math.floor(random() * bytes.length);
      const kind = random();
      if (kind < 0.4) bytes[at] = interesting[Math.floor(random() * interesting.length)]!;
      else if (kind < 0.6) bytes[at] = Math.floor(random() * 256);
      else if (kind < 0.8) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(Math.floor(random() * 600), bytes[at]!), bytes.subarray(at)]);
    }
    if (round % 10 === 0) bytes = Buffer.from(Array.from({ length: Math.floor(random() * 2000) }, () => Math.floor(random() * 256)));

    const whole = parseWhole(bytes, limits);
    const parser = new RequestParser(limits);
    const requests: ParsedRequest[] = [];
    let start = 0;
    while (start < bytes.length) {
      const size = 1 + Math.floor(random() * 40);
      requests.push(...parser.feed(bytes.subarray(start, start + size)));
      assert.ok(parser.bufferedBytes <= bound, `round ${round}: ${parser.bufferedBytes} bytes buffered`);
      start += size;
    }
    assert.deepEqual(summary({ requests, error: parser.error }), summary(whole), `round ${round}: split changed the outcome`);
    if (whole.error !== undefined) assert.ok(allowedStatuses.has(whole.error.status), `round ${round}: status ${whole.error.status}`);
  }
});
