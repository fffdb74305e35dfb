// Incremental HTTP/1.1 request parser: bytes in (split anywhere), complete requests out, or one error with its status.
// RFC 9112 §2–§3 (request line), §5 (fields), §6 (message body length, smuggling defences), §7.1 (chunked coding).
// Hot path: a state machine over byte-class tables with tight inner loops; tokens are sliced, never regex-matched.
import { FIELD_VALUE_CHARACTER, HEX_VALUE, TARGET_CHARACTER, TOKEN_CHARACTER } from '../http-common/characters.ts';
import { DEFAULT_LIMITS, type HttpLimits } from './limits.ts';
import { joinFieldValues, listMembers } from '../http-common/fields.ts';
import { MessageAssembler } from '../websocket/message-assembler.ts';
import { webSocketUpgradeProblem } from '../websocket/handshake.ts';

export interface ParsedRequest {
  method: string;
  /** The request-target as sent: "/path?query", "*", or an absolute URI. */
  target: string;
  httpVersion: '1.0' | '1.1';
  /** Lower-case names; repeated fields joined with ", " (cookie with "; "). Null prototype: names are attacker-chosen. */
  headers: Record<string, string>;
  body: Buffer;
  /** False when the connection must close after the response (Connection: close, or HTTP/1.0 without keep-alive). */
  keepAlive: boolean;
  /** The client asked to switch to WebSocket; the parser stops here and keeps the following bytes for the upgrade. */
  upgrade: boolean;
}

export interface ParseError {
  /** The status to answer with before closing: 400, 413, 414, 431, 501 or 505. */
  status: number;
  reason: string;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const SEMICOLON = 0x3b;

/**
 * Where the parser stands in the request grammar. At run time a small integer (the switch in feed() runs once
 * per token, and V8 keeps these as small integers); the brand gives it a name and keeps other numbers out.
 * A brand rather than a union of literals, so TypeScript does not narrow the state inside a case and reject
 * the transitions that feed() and #startBody() make.
 */
type ParserState = number & { readonly __brand: 'ParserState' };

const LINE_START = 0 as ParserState;
const LEADING_LF = 1 as ParserState;
const METHOD = 2 as ParserState;
const TARGET = 3 as ParserState;
const VERSION = 4 as ParserState;
const LINE_LF = 5 as ParserState;
const FIELD_START = 6 as ParserState;
const FIELD_NAME = 7 as ParserState;
const FIELD_VALUE_START = 8 as ParserState;
const FIELD_VALUE = 9 as ParserState;
const FIELD_LF = 10 as ParserState;
const FIELDS_END_LF = 11 as ParserState;
const BODY_FIXED = 12 as ParserState;
const CHUNK_SIZE_START = 13 as ParserState;
const CHUNK_SIZE = 14 as ParserState;
const CHUNK_SIZE_WHITESPACE = 15 as ParserState;
const CHUNK_EXTENSION = 16 as ParserState;
const CHUNK_SIZE_LF = 17 as ParserState;
const CHUNK_DATA = 18 as ParserState;
const CHUNK_DATA_CR = 19 as ParserState;
const CHUNK_DATA_LF = 20 as ParserState;
/** Terminal states: feed() reads nothing more. */
const UPGRADED = 21 as ParserState;
const CLOSED = 22 as ParserState;
const FAILED = 23 as ParserState;

const KEEP_ALIVE_ONLY: readonly string[] = ['keep-alive'];

/** Parse "HTTP/1.1": undefined when it is not an HTTP-version at all, otherwise its digits as "1.1". */
function versionDigits(version: string): string | undefined {
  if (version.length !== 8 || !version.startsWith('HTTP/') || version.charCodeAt(6) !== 0x2e) return undefined;
  const major = version.charCodeAt(5);
  const minor = version.charCodeAt(7);
  if (major < 0x30 || major > 0x39 || minor < 0x30 || minor > 0x39) return undefined;
  return version.slice(5);
}

/** Drop trailing SP/HTAB (OWS, RFC 9110 §5.6.3); leading OWS was never collected. */
function trimTrailingWhitespace(value: string): string {
  let end = value.length;
  while (end > 0) {
    const code = value.charCodeAt(end - 1);
    if (code !== SPACE && code !== TAB) break;
    end--;
  }
  return end === value.length ? value : value.slice(0, end);
}

function isAllDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** "0042" → "42", "000" → "0": the digits that carry the value, so equal lengths compare equal as text. */
function withoutLeadingZeros(digits: string): string {
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  return start === 0 ? digits : digits.slice(start);
}

export class RequestParser {
  readonly limits: Readonly<HttpLimits>;
  /** Set once parsing failed; the connection must answer error.status and close. */
  error: ParseError | undefined;
  /** Set when a request announced "Expect: 100-continue" and its body has not arrived yet; the server clears it. */
  continueRequested = false;

  #state: ParserState = LINE_START;
  /** The part of a token that arrived in an earlier chunk. Bounded by the request-line and header limits. */
  #partial = '';
  #lineBytes = 0;
  #fieldBytes = 0;
  #fieldCount = 0;
  #chunkLineBytes = 0;
  #inTrailers = false;

  #method = '';
  #target = '';
  #httpVersion: '1.0' | '1.1' = '1.1';
  #headers: Record<string, string> = Object.create(null);
  #fieldName = '';
  #hostCount = 0;

  /**
   * The body so far: a view when it arrives in one piece, otherwise copied into one buffer grown by doubling.
   * Never one Buffer per piece: a body of a million 1-byte chunks would cost ~100 bytes of object per data byte.
   */
  #body: MessageAssembler;
  /** Bytes still expected: of the whole body (Content-Length) or of the current chunk. */
  #remaining = 0;
  #chunkSize = 0;
  #chunkSizeDigits = 0;
  #keepAlive = true;
  #upgrade = false;
  #upgradeHead: Buffer[] = [];

  constructor(limits: Partial<HttpLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.#body = new MessageAssembler(this.limits.maxBodyBytes);
  }

  /** True between the first byte of a request and its last: what the request timeout measures. */
  get midRequest(): boolean {
    return this.#state !== LINE_START && this.#state < UPGRADED;
  }

  /** True once a WebSocket upgrade request has been parsed; later bytes belong to the new protocol. */
  get upgraded(): boolean {
    return this.#state === UPGRADED;
  }

  /** Bytes held for the request in progress (partial token plus the body's buffer); never more than the limits allow. */
  get bufferedBytes(): number {
    return this.#partial.length + this.#body.retainedBytes;
  }

  /** The bytes that followed the upgrade request (the start of the WebSocket stream), handed over once. */
  takeUpgradeHead(): Buffer {
    const head = this.#upgradeHead.length === 1 ? this.#upgradeHead[0]! : Buffer.concat(this.#upgradeHead);
    this.#upgradeHead = [];
    return head;
  }

  /**
   * Consume one chunk and return every request it completes, in order. After an error (see `error`),
   * an upgrade, or a request that closes the connection, the parser reads nothing more.
   */
  feed(chunk: Buffer): ParsedRequest[] {
    const completed: ParsedRequest[] = [];
    const end = chunk.length;
    if (this.#state >= UPGRADED) {
      if (this.#state === UPGRADED && end > 0) this.#upgradeHead.push(chunk);
      return completed;
    }
    const limits = this.limits;
    let index = 0;
    // A token cut by the previous chunk continues at byte 0 of this one.
    let tokenStart = 0;
    while (index < end) {
      switch (this.#state) {
        case LINE_START: {
          const byte = chunk[index]!;
          // RFC 9112 §2.2: ignore empty lines before a request line (some clients send CRLF after a body).
          if (byte === CR) {
            this.#state = LEADING_LF;
            index++;
            if (++this.#lineBytes > limits.maxRequestLineBytes) return this.#fail(completed, 414, 'request line too long');
            break;
          }
          if (TOKEN_CHARACTER[byte] === 0) return this.#fail(completed, 400, 'request line must start with a method');
          this.#state = METHOD;
          tokenStart = index;
          break;
        }
        case LEADING_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR before request line');
          this.#state = LINE_START;
          index++;
          if (++this.#lineBytes > limits.maxRequestLineBytes) return this.#fail(completed, 414, 'request line too long');
          break;
        }
        case METHOD: {
          let scan = index;
          while (scan < end && TOKEN_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#lineBytes += scan - index;
          if (this.#lineBytes > limits.maxRequestLineBytes) return this.#fail(completed, 414, 'request line too long');
          if (scan === end) {
            this.#partial += chunk.toString('latin1', tokenStart, end);
            index = end;
            break;
          }
          if (chunk[scan] !== SPACE) return this.#fail(completed, 400, 'method must be a token followed by one space');
          this.#method = this.#partial + chunk.toString('latin1', tokenStart, scan);
          this.#partial = '';
          this.#lineBytes++;
          index = scan + 1;
          tokenStart = index;
          this.#state = TARGET;
          break;
        }
        case TARGET: {
          let scan = index;
          while (scan < end && TARGET_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#lineBytes += scan - index;
          if (this.#lineBytes > limits.maxRequestLineBytes) return this.#fail(completed, 414, 'request line too long');
          if (scan === end) {
            this.#partial += chunk.toString('latin1', tokenStart, end);
            index = end;
            break;
          }
          const target = this.#partial + chunk.toString('latin1', tokenStart, scan);
          if (chunk[scan] !== SPACE || target.length === 0) return this.#fail(completed, 400, 'malformed request-target');
          this.#target = target;
          this.#partial = '';
          this.#lineBytes++;
          index = scan + 1;
          tokenStart = index;
          this.#state = VERSION;
          break;
        }
        case VERSION: {
          let scan = index;
          while (scan < end && TARGET_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#lineBytes += scan - index;
          if (this.#lineBytes > limits.maxRequestLineBytes) return this.#fail(completed, 414, 'request line too long');
          if (scan === end) {
            this.#partial += chunk.toString('latin1', tokenStart, end);
            index = end;
            break;
          }
          if (chunk[scan] !== CR) return this.#fail(completed, 400, 'request line must end with CRLF');
          const digits = versionDigits(this.#partial + chunk.toString('latin1', tokenStart, scan));
          this.#partial = '';
          if (digits === undefined) return this.#fail(completed, 400, 'malformed HTTP-version');
          if (digits !== '1.1' && digits !== '1.0') return this.#fail(completed, 505, `HTTP/${digits} is not supported`);
          this.#httpVersion = digits;
          index = scan + 1;
          this.#state = LINE_LF;
          break;
        }
        case LINE_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR in request line');
          index++;
          this.#state = FIELD_START;
          break;
        }
        case FIELD_START: {
          const byte = chunk[index]!;
          if (++this.#fieldBytes > limits.maxHeaderBytes) return this.#fail(completed, 431, 'header section too large');
          if (byte === CR) {
            index++;
            this.#state = FIELDS_END_LF;
            break;
          }
          // RFC 9112 §5.2: obs-fold (a line starting with whitespace) is rejected, not unfolded.
          if (byte === SPACE || byte === TAB) return this.#fail(completed, 400, 'obsolete line folding');
          if (TOKEN_CHARACTER[byte] === 0) return this.#fail(completed, 400, 'malformed header name');
          this.#fieldBytes--; // counted again by FIELD_NAME's scan
          tokenStart = index;
          this.#state = FIELD_NAME;
          break;
        }
        case FIELD_NAME: {
          let scan = index;
          while (scan < end && TOKEN_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#fieldBytes += scan - index;
          if (this.#fieldBytes > limits.maxHeaderBytes) return this.#fail(completed, 431, 'header section too large');
          if (scan === end) {
            this.#partial += chunk.toString('latin1', tokenStart, end);
            index = end;
            break;
          }
          // RFC 9112 §5.1: no whitespace between name and colon (a classic smuggling trick).
          if (chunk[scan] !== COLON) return this.#fail(completed, 400, 'header name must be followed by a colon');
          this.#fieldName = (this.#partial + chunk.toString('latin1', tokenStart, scan)).toLowerCase();
          this.#partial = '';
          this.#fieldBytes++;
          index = scan + 1;
          this.#state = FIELD_VALUE_START;
          break;
        }
        case FIELD_VALUE_START: {
          let scan = index;
          while (scan < end && (chunk[scan] === SPACE || chunk[scan] === TAB)) scan++;
          this.#fieldBytes += scan - index;
          if (this.#fieldBytes > limits.maxHeaderBytes) return this.#fail(completed, 431, 'header section too large');
          index = scan;
          if (scan === end) break;
          tokenStart = index;
          this.#state = FIELD_VALUE;
          break;
        }
        case FIELD_VALUE: {
          let scan = index;
          while (scan < end && FIELD_VALUE_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#fieldBytes += scan - index;
          if (this.#fieldBytes > limits.maxHeaderBytes) return this.#fail(completed, 431, 'header section too large');
          if (scan === end) {
            this.#partial += chunk.toString('latin1', tokenStart, end);
            index = end;
            break;
          }
          if (chunk[scan] !== CR) return this.#fail(completed, 400, 'control character in header value');
          const value = trimTrailingWhitespace(this.#partial + chunk.toString('latin1', tokenStart, scan));
          this.#partial = '';
          this.#fieldBytes++;
          if (!this.#addField(value)) return this.#fail(completed, 431, 'too many header fields');
          index = scan + 1;
          this.#state = FIELD_LF;
          break;
        }
        case FIELD_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR in header section');
          if (++this.#fieldBytes > limits.maxHeaderBytes) return this.#fail(completed, 431, 'header section too large');
          index++;
          this.#state = FIELD_START;
          break;
        }
        case FIELDS_END_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR at end of header section');
          index++;
          if (this.#inTrailers) {
            this.#complete(completed);
          } else {
            const problem = this.#startBody();
            if (problem !== undefined) return this.#fail(completed, problem.status, problem.reason);
            if (this.#state === LINE_START) this.#complete(completed);
          }
          if (this.#state === UPGRADED) {
            if (index < end) this.#upgradeHead.push(chunk.subarray(index));
            return completed;
          }
          if (this.#state === CLOSED) return completed;
          break;
        }
        case BODY_FIXED:
        case CHUNK_DATA: {
          const take = Math.min(this.#remaining, end - index);
          this.#body.append(chunk.subarray(index, index + take), 0);
          this.#remaining -= take;
          index += take;
          if (this.#remaining === 0) {
            if (this.#state === CHUNK_DATA) {
              this.#state = CHUNK_DATA_CR;
            } else {
              this.#complete(completed);
              if (this.#state === UPGRADED) {
                if (index < end) this.#upgradeHead.push(chunk.subarray(index));
                return completed;
              }
              if (this.#state === CLOSED) return completed;
            }
          }
          break;
        }
        case CHUNK_SIZE_START:
        case CHUNK_SIZE: {
          const byte = chunk[index]!;
          if (++this.#chunkLineBytes > limits.maxChunkLineBytes) return this.#fail(completed, 400, 'chunk-size line too long');
          const digit = HEX_VALUE[byte]!;
          if (digit !== 255) {
            this.#chunkSize = this.#chunkSize * 16 + digit;
            // Checked per digit, so the number never grows past the limit (no overflow from 30 hex digits).
            if (this.#body.byteLength + this.#chunkSize > limits.maxBodyBytes) return this.#fail(completed, 413, 'chunked body too large');
            this.#state = CHUNK_SIZE;
            index++;
            break;
          }
          if (this.#state === CHUNK_SIZE_START) return this.#fail(completed, 400, 'chunk-size must start with a hex digit');
          this.#chunkLineBytes--; // counted again by the state that takes this byte
          if (byte === CR) {
            index++;
            this.#state = CHUNK_SIZE_LF;
          } else if (byte === SEMICOLON) {
            this.#state = CHUNK_EXTENSION;
          } else if (byte === SPACE || byte === TAB) {
            this.#state = CHUNK_SIZE_WHITESPACE;
          } else {
            return this.#fail(completed, 400, 'malformed chunk-size');
          }
          break;
        }
        case CHUNK_SIZE_WHITESPACE: {
          // RFC 9112 §7.1.1: whitespace after the size is BWS before a chunk-ext, nothing else. "1 \r\n" is refused,
          // as llhttp refuses it: a parser more lenient than the proxy in front of it is a smuggling ingredient.
          const byte = chunk[index]!;
          if (byte === SPACE || byte === TAB) {
            if (++this.#chunkLineBytes > limits.maxChunkLineBytes) return this.#fail(completed, 400, 'chunk-size line too long');
            index++;
          } else if (byte === SEMICOLON) {
            this.#state = CHUNK_EXTENSION;
          } else {
            return this.#fail(completed, 400, 'whitespace after chunk-size without a chunk extension');
          }
          break;
        }
        case CHUNK_EXTENSION: {
          // Extensions carry nothing we use (RFC 9112 §7.1.1): skip them, but only up to the line limit.
          let scan = index;
          while (scan < end && FIELD_VALUE_CHARACTER[chunk[scan]!] === 1) scan++;
          this.#chunkLineBytes += scan - index;
          if (this.#chunkLineBytes > limits.maxChunkLineBytes) return this.#fail(completed, 400, 'chunk extension too long');
          index = scan;
          if (scan === end) break;
          if (chunk[scan] !== CR) return this.#fail(completed, 400, 'control character in chunk extension');
          index++;
          this.#state = CHUNK_SIZE_LF;
          break;
        }
        case CHUNK_SIZE_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR after chunk-size');
          index++;
          if (this.#chunkSize === 0) {
            // Last chunk: a trailer section follows, parsed like headers and then dropped.
            this.#inTrailers = true;
            this.#fieldBytes = 0;
            this.#fieldCount = 0;
            this.#state = FIELD_START;
          } else {
            this.#remaining = this.#chunkSize;
            this.#state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA_CR: {
          if (chunk[index] !== CR) return this.#fail(completed, 400, 'chunk data longer than its chunk-size');
          index++;
          this.#state = CHUNK_DATA_LF;
          break;
        }
        case CHUNK_DATA_LF: {
          if (chunk[index] !== LF) return this.#fail(completed, 400, 'bare CR after chunk data');
          index++;
          this.#chunkSize = 0;
          this.#chunkLineBytes = 0;
          this.#state = CHUNK_SIZE_START;
          break;
        }
        default:
          return completed;
      }
    }
    return completed;
  }

  /** Store one header (or count one trailer); false when the field count limit is crossed. */
  #addField(value: string): boolean {
    if (++this.#fieldCount > this.limits.maxHeaderCount) return false;
    if (this.#inTrailers) return true;
    const name = this.#fieldName;
    const headers = this.#headers;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else headers[name] = joinFieldValues(name, existing, value);
    if (name === 'host') this.#hostCount++;
    return true;
  }

  /** Decide how the body is framed (RFC 9112 §6.1–§6.3), rejecting every ambiguous combination. */
  #startBody(): ParseError | undefined {
    const headers = this.#headers;
    const http11 = this.#httpVersion === '1.1';
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; never more than one.
    if (this.#hostCount > 1 || (http11 && this.#hostCount === 0)) return { status: 400, reason: 'exactly one Host header is required' };

    const connection = headers['connection'];
    // Hot path: most clients send no Connection header or a single "keep-alive"; skip the list split for those.
    const connectionOptions = connection === undefined ? [] : connection.length === 10 && connection.toLowerCase() === 'keep-alive'
      ? KEEP_ALIVE_ONLY : listMembers(connection.toLowerCase());
    this.#keepAlive = connectionOptions.includes('close') ? false : http11 || connectionOptions.includes('keep-alive');
    // Hot path: the WebSocket rule is asked only of the rare request that carries an Upgrade header at all.
    this.#upgrade = headers['upgrade'] !== undefined && webSocketUpgradeProblem(headers) === undefined;

    const transferEncoding = headers['transfer-encoding'];
    const contentLength = headers['content-length'];
    if (transferEncoding !== undefined) {
      // Both framings at once is the textbook request-smuggling setup (RFC 9112 §6.1).
      if (contentLength !== undefined) return { status: 400, reason: 'both Content-Length and Transfer-Encoding' };
      if (!http11) return { status: 400, reason: 'Transfer-Encoding in an HTTP/1.0 request' };
      const codings = listMembers(transferEncoding.toLowerCase());
      if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return { status: 400, reason: 'chunked must be the final transfer coding' };
      for (let index = 0; index < codings.length - 1; index++) {
        if (codings[index] === 'chunked') return { status: 400, reason: 'chunked applied twice' };
      }
      if (codings.length > 1) return { status: 501, reason: `transfer coding ${codings[0]} is not implemented` };
      this.#chunkSize = 0;
      this.#chunkLineBytes = 0;
      this.#state = CHUNK_SIZE_START;
      this.#noteExpectContinue();
      return undefined;
    }
    if (contentLength !== undefined) {
      // Repeated Content-Length is tolerated only when every copy agrees (RFC 9110 §8.6).
      const copies = contentLength.split(',');
      const first = withoutLeadingZeros(copies[0]!.trim());
      for (const copy of copies) {
        const trimmed = copy.trim();
        if (!isAllDigits(trimmed)) return { status: 400, reason: 'malformed Content-Length' };
        if (withoutLeadingZeros(trimmed) !== first) return { status: 400, reason: 'conflicting Content-Length values' };
      }
      // RFC 9110 §8.6: any digit string is a valid length, "0001" included. Compared as a number only when it
      // is short enough to be exact; a longer one is a valid length too large for any limit (413, not 400).
      const length = first.length > 15 ? Number.POSITIVE_INFINITY : Number(first);
      if (length > this.limits.maxBodyBytes) return { status: 413, reason: 'Content-Length over the body limit' };
      if (length > 0) {
        this.#remaining = length;
        this.#state = BODY_FIXED;
        this.#noteExpectContinue();
        return undefined;
      }
    }
    this.#state = LINE_START;
    return undefined;
  }

  #noteExpectContinue(): void {
    const expect = this.#headers['expect'];
    this.continueRequested = expect !== undefined && expect.toLowerCase() === '100-continue';
  }

  /** Hand out the finished request and reset for the next one on the same connection. */
  #complete(completed: ParsedRequest[]): void {
    const body = this.#body.take();
    completed.push({
      method: this.#method,
      target: this.#target,
      httpVersion: this.#httpVersion,
      headers: this.#headers,
      body,
      keepAlive: this.#keepAlive,
      upgrade: this.#upgrade,
    });
    this.#state = this.#upgrade ? UPGRADED : this.#keepAlive ? LINE_START : CLOSED;
    this.#headers = Object.create(null);
    this.#remaining = 0;
    this.#lineBytes = 0;
    this.#fieldBytes = 0;
    this.#fieldCount = 0;
    this.#hostCount = 0;
    this.#inTrailers = false;
    this.continueRequested = false;
  }

  #fail(completed: ParsedRequest[], status: number, reason: string): ParsedRequest[] {
    this.error = { status, reason };
    this.#state = FAILED;
    this.#partial = '';
    this.#body.take();
    return completed;
  }
}
