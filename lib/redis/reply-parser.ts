// Incremental RESP2 reply parser (Redis serialization protocol, https://redis.io/docs/reference/protocol-spec/,
// the RESP2 types: "Simple strings", "Simple errors", "Integers", "Bulk strings", "Arrays", and the RESP2
// null bulk string `$-1` and null array `*-1`). Sans-I/O: bytes go in split at any byte, whole replies come
// out into an array the caller passes; the parser owns no socket and calls no application code.
//
//   +OK\r\n                  → 'OK'                      (simple string: a JS string)
//   -ERR unknown command\r\n → RedisReplyError           (inside an array it stays a value)
//   :1000\r\n                → 1000                      (integer: a JS number, exact up to 2^53)
//   $5\r\nhello\r\n          → <Buffer 68 65 6c 6c 6f>   (bulk string: a Buffer; `$-1` → null)
//   *2\r\n:1\r\n:2\r\n       → [1, 2]                    (array; `*-1` → null)
//
// Why RESP2 and not RESP3: every Redis since 2.0 speaks it by default, it needs no HELLO round trip on
// connect, and pub/sub works on a dedicated connection anyway; the client never sends HELLO 3, so a
// RESP3 type byte can only come from a broken or hostile server and is refused as a protocol error.
//
// Hostile servers: arrays are parsed with an explicit stack (no recursion), bounded in depth and
// announced length; lines (simple strings, errors, integers, lengths) are bounded; a bulk string is
// bounded by `maxBulkBytes` before its buffer is allocated; and one whole reply by `maxReplyBytes`,
// counting its bytes and VALUE_OVERHEAD_BYTES per element held. `bufferedBytes` counts what is held.
//
// Hot path, written for speed: a line that lies whole in the chunk is read in place; a bulk string is
// copied once, straight into a Buffer of its announced length (no per-chunk concatenation, even when it
// arrives in a thousand pieces).

import { RedisProtocolError, RedisReplyError } from './errors.ts';

export type RedisReply = string | Buffer | number | null | RedisReply[] | RedisReplyError;

export interface ReplyParserLimits {
  /** Largest bulk string accepted (Redis's own proto-max-bulk-len default is 512 MiB). */
  maxBulkBytes: number;
  /** Largest announced array length. */
  maxArrayLength: number;
  /** Deepest nesting of arrays (a top-level array is depth 1). */
  maxDepth: number;
  /** Longest line: a simple string, an error message, an integer or a length, without its CRLF. */
  maxLineBytes: number;
  /** Largest whole reply: its bytes plus VALUE_OVERHEAD_BYTES per element of its arrays. */
  maxReplyBytes: number;
}

export const DEFAULT_REPLY_LIMITS: Readonly<ReplyParserLimits> = {
  maxBulkBytes: 512 * 1024 * 1024,
  maxArrayLength: 1 << 26,
  maxDepth: 64,
  maxLineBytes: 64 * 1024,
  maxReplyBytes: 1024 * 1024 * 1024,
};

/** What an array element costs beyond its bytes: a slot in the array, a JS number, string or Buffer object. */
export const VALUE_OVERHEAD_BYTES = 32;

const CR = 13;
const LF = 10;
const MINUS = 45;

/** What the parser is reading between calls. */
const enum State {
  /** A type byte and its line, up to CRLF. */
  Line,
  /** The body of a bulk string. */
  BulkBody,
  /** The CRLF after a bulk string body. */
  BulkEnd,
}

interface OpenArray {
  items: RedisReply[];
  expected: number;
}

const RESP3_TYPES = new Set(['_', ',', '#', '!', '=', '(', '%', '~', '|', '>']);

export class ReplyParser {
  private readonly limits: ReplyParserLimits;
  private state = State.Line;
  /** A line split across chunks: its bytes so far (allocated only when a line is split). */
  private partialLine: Buffer | undefined;
  private partialLineLength = 0;
  /** The bulk string being filled, and how much of it is. */
  private bulk: Buffer | undefined;
  private bulkFilled = 0;
  /** Bytes of the CRLF after a bulk body seen so far (0 or 1 between chunks). */
  private bulkEndSeen = 0;
  /** Arrays still waiting for elements, innermost last. */
  private readonly open: OpenArray[] = [];
  /** What the reply in progress holds so far: its bytes read, plus the overhead of its elements. */
  private replyBytes = 0;
  /** Set when a top-level reply completes, so the count starts afresh. */
  private replyDone = false;

  constructor(limits: Partial<ReplyParserLimits> = {}) {
    this.limits = { ...DEFAULT_REPLY_LIMITS, ...limits };
  }

  /** Bytes the parser holds for an unfinished reply (a split line, a bulk string being filled). */
  get bufferedBytes(): number {
    return this.replyBytes + (this.bulk === undefined ? 0 : this.bulk.length - this.bulkFilled);
  }

  /** True when no reply is half read: the stream ended on a reply boundary. */
  get idle(): boolean {
    return this.state === State.Line && this.partialLineLength === 0 && this.open.length === 0;
  }

  /**
   * Feed bytes; every reply completed by them is appended to `replies`. Throws RedisProtocolError on bytes
   * that are not RESP2 or break a limit (the replies completed before the fault are in `replies`); the
   * parser must not be used after that.
   */
  push(chunk: Buffer, replies: RedisReply[]): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      const start = offset;
      if (this.state === State.Line) offset = this.readLine(chunk, offset, replies);
      else if (this.state === State.BulkBody) offset = this.readBulkBody(chunk, offset, replies);
      else offset = this.readBulkEnd(chunk, offset, replies);
      if (this.replyDone) {
        this.replyDone = false;
        this.replyBytes = 0;
      } else {
        this.replyBytes += offset - start;
        this.checkReplySize(0);
      }
    }
  }

  private readLine(chunk: Buffer, offset: number, replies: RedisReply[]): number {
    if (this.partialLineLength === 0) {
      // Fast path: the whole line is in this chunk.
      const lineFeed = chunk.indexOf(LF, offset);
      if (lineFeed !== -1) {
        this.checkLineLength(lineFeed - offset - 2);
        if (chunk[lineFeed - 1] !== CR || lineFeed - 1 === offset) throw new RedisProtocolError('a reply line must end in CRLF');
        this.decodeLine(chunk, offset, lineFeed - 1, replies);
        return lineFeed + 1;
      }
    }
    // Slow path: collect the line across chunks, bounded.
    const lineFeed = chunk.indexOf(LF, offset);
    const stop = lineFeed === -1 ? chunk.length : lineFeed + 1;
    const length = this.partialLineLength + stop - offset;
    this.checkLineLength(length - 3);
    let partial = this.partialLine;
    if (partial === undefined || partial.length < length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(length, 64, (partial?.length ?? 0) * 2), this.limits.maxLineBytes + 3));
      if (partial !== undefined) partial.copy(grown, 0, 0, this.partialLineLength);
      partial = this.partialLine = grown;
    }
    chunk.copy(partial, this.partialLineLength, offset, stop);
    this.partialLineLength = length;
    if (lineFeed !== -1) {
      if (length < 3 || partial[length - 2] !== CR) throw new RedisProtocolError('a reply line must end in CRLF');
      this.partialLineLength = 0;
      // A long line's buffer is let go; a short one is kept for the next split line.
      if (partial.length > 1024) this.partialLine = undefined;
      this.decodeLine(partial, 0, length - 2, replies);
    }
    return stop;
  }

  private checkReplySize(more: number): void {
    if (this.replyBytes + more > this.limits.maxReplyBytes) {
      throw new RedisProtocolError(`a reply larger than ${this.limits.maxReplyBytes} bytes (maxReplyBytes)`);
    }
  }

  private checkLineLength(contentLength: number): void {
    if (contentLength > this.limits.maxLineBytes) {
      throw new RedisProtocolError(`a reply line is longer than ${this.limits.maxLineBytes} bytes`);
    }
  }

  /** `line[start]` is the type byte; the content runs to `end` (the CR). */
  private decodeLine(line: Buffer, start: number, end: number, replies: RedisReply[]): void {
    const type = line[start];
    switch (type) {
      case 0x2b: // '+' simple string
        return this.complete(line.toString('utf8', start + 1, end), replies);
      case 0x2d: // '-' error
        return this.complete(new RedisReplyError(line.toString('utf8', start + 1, end)), replies);
      case 0x3a: // ':' integer
        return this.complete(parseInteger(line, start + 1, end, 'integer'), replies);
      case 0x24: { // '$' bulk string
        const length = parseInteger(line, start + 1, end, 'bulk string length');
        if (length === -1) return this.complete(null, replies);
        if (length < 0) throw new RedisProtocolError(`invalid bulk string length ${length}`);
        if (length > this.limits.maxBulkBytes) throw new RedisProtocolError(`a bulk string of ${length} bytes is over the limit of ${this.limits.maxBulkBytes}`);
        this.checkReplySize(length);
        this.bulk = Buffer.allocUnsafe(length);
        this.bulkFilled = 0;
        this.state = State.BulkBody;
        return;
      }
      case 0x2a: { // '*' array
        const length = parseInteger(line, start + 1, end, 'array length');
        if (length === -1) return this.complete(null, replies);
        if (length < 0) throw new RedisProtocolError(`invalid array length ${length}`);
        if (length > this.limits.maxArrayLength) throw new RedisProtocolError(`an array of ${length} elements is over the limit of ${this.limits.maxArrayLength}`);
        if (length === 0) return this.complete([], replies);
        if (this.open.length >= this.limits.maxDepth) throw new RedisProtocolError(`arrays nested deeper than ${this.limits.maxDepth}`);
        // Elements are pushed as they arrive: an announced length costs nothing until its elements come.
        this.open.push({ items: [], expected: length });
        return;
      }
      default: {
        const character = String.fromCharCode(type);
        if (RESP3_TYPES.has(character)) throw new RedisProtocolError(`RESP3 reply type '${character}': this client speaks RESP2 only`);
        throw new RedisProtocolError(`unknown reply type byte 0x${type.toString(16).padStart(2, '0')}`);
      }
    }
  }

  private readBulkBody(chunk: Buffer, offset: number, replies: RedisReply[]): number {
    const bulk = this.bulk!;
    const take = Math.min(bulk.length - this.bulkFilled, chunk.length - offset);
    chunk.copy(bulk, this.bulkFilled, offset, offset + take);
    this.bulkFilled += take;
    offset += take;
    if (this.bulkFilled === bulk.length) {
      this.state = State.BulkEnd;
      this.bulkEndSeen = 0;
      // Fast path: the CRLF is right here.
      if (offset + 1 < chunk.length && chunk[offset] === CR && chunk[offset + 1] === LF) {
        this.finishBulk(replies);
        return offset + 2;
      }
    }
    return offset;
  }

  private readBulkEnd(chunk: Buffer, offset: number, replies: RedisReply[]): number {
    while (offset < chunk.length) {
      const expected = this.bulkEndSeen === 0 ? CR : LF;
      if (chunk[offset] !== expected) throw new RedisProtocolError('a bulk string must be followed by CRLF');
      offset++;
      if (++this.bulkEndSeen === 2) {
        this.finishBulk(replies);
        break;
      }
    }
    return offset;
  }

  private finishBulk(replies: RedisReply[]): void {
    const bulk = this.bulk!;
    this.bulk = undefined;
    this.state = State.Line;
    this.complete(bulk, replies);
  }

  /** A value is whole: it goes into the innermost open array, closing every array it fills. */
  private complete(value: RedisReply, replies: RedisReply[]): void {
    const open = this.open;
    if (open.length > 0) {
      this.replyBytes += VALUE_OVERHEAD_BYTES;
      this.checkReplySize(0);
    }
    while (open.length > 0) {
      const innermost = open[open.length - 1];
      innermost.items.push(value);
      if (innermost.items.length < innermost.expected) return;
      open.pop();
      value = innermost.items;
    }
    replies.push(value);
    this.replyDone = true;
  }
}

/** A signed decimal integer between `start` and `end`; RESP allows nothing else (no '+', no spaces). */
function parseInteger(line: Buffer, start: number, end: number, what: string): number {
  let index = start;
  const negative = line[index] === MINUS;
  if (negative) index++;
  if (index === end) throw new RedisProtocolError(`empty ${what}`);
  let value = 0;
  for (; index < end; index++) {
    const digit = line[index] - 48;
    if (digit < 0 || digit > 9) throw new RedisProtocolError(`invalid ${what} ${JSON.stringify(line.toString('latin1', start, end))}`);
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}
