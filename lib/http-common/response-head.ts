// An HTTP/1.1 response head as one string: for the raw server's responses, node:http's status check, and a last
// response on a socket that closes after it (a refused upgrade). Neutral ground between lib/http/ and lib/websocket/.
// RFC 9112 §4 (status line), RFC 9110 §6.6.1 (Date), §8.6 (Content-Length), §6.4.1 (no content on 1xx/204/304).
// Hot path: status lines and the Date value are cached; the head is built as one string for one write.
// Heads are encoded as UTF-8, like string bodies, so a head and a small body can share one string.
import type { Duplex } from 'node:stream';
import { isSafeFieldValue, isToken } from './characters.ts';
import { statusText } from './reason-phrases.ts';

const statusLines = new Map<number, string>();

/** "HTTP/1.1 404 Not Found\r\n", built once per status code. */
export function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${statusText(status)}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

let cachedDateLine = '';
let cachedDateExpires = 0;

/** "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n", recomputed at most once per second (IMF-fixdate, RFC 9110 §5.6.7). */
export function dateLine(): string {
  const now = Date.now();
  if (now >= cachedDateExpires) {
    cachedDateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
    cachedDateExpires = now - (now % 1000) + 1000;
  }
  return cachedDateLine;
}

/** Statuses that never carry content, so they get neither a body nor Content-Length (RFC 9110 §8.6, §6.4.1). */
export function statusForbidsContent(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * May a handler answer with this status? Only a final status a client can pair with its request: 2xx–5xx,
 * an integer. A 1xx as the answer would be taken as interim (RFC 9110 §15.2), and the next response paired
 * with the wrong request; 101 belongs to the upgrade path alone; 1000 does not fit the status line (RFC 9112 §4).
 */
export function isFinalStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

/** The headers the server itself owns; a handler's copies are dropped so the framing cannot be spoofed. */
export function isFramingHeader(name: string): boolean {
  const length = name.length;
  if (length !== 10 && length !== 14 && length !== 17) return false;
  const lower = name.toLowerCase();
  return lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection';
}

/**
 * The complete response head for `response`, or undefined when a handler supplied a status or header that cannot
 * be sent (not a final status, a name that is not a token, or a value with CR/LF that would split the response).
 * `connection` adds "Connection: close" or "Connection: keep-alive" (the latter only matters to HTTP/1.0 clients).
 */
export function responseHead(status: number, headers: Record<string, string> | undefined, contentLength: number,
  connection: 'close' | 'keep-alive' | undefined): string | undefined {
  if (!isFinalStatus(status)) return undefined;
  let head = statusLine(status) + dateLine();
  if (!statusForbidsContent(status)) head += `Content-Length: ${contentLength}\r\n`;
  if (connection === 'close') head += 'Connection: close\r\n';
  else if (connection === 'keep-alive') head += 'Connection: keep-alive\r\n';
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name];
      if (isFramingHeader(name)) continue;
      if (typeof value !== 'string' || !isToken(name) || !isSafeFieldValue(value)) return undefined;
      head += name + ': ' + value + '\r\n';
    }
  }
  return head + '\r\n';
}

/**
 * Write a whole response on a socket that is about to be closed, with "Connection: close", then end the socket
 * and destroy it once the bytes are flushed. False, with nothing written, when responseHead() refuses the status
 * or a header (the caller picks a fallback); true otherwise, also when the socket was already gone (then destroyed).
 */
export function writeClosingResponse(socket: Duplex, status: number, headers: Record<string, string> | undefined, body: string | Buffer): boolean {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = responseHead(status, headers, bodyBytes.length, 'close');
  if (head === undefined) return false;
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return true;
  }
  socket.on('error', () => socket.destroy());
  const bytes = statusForbidsContent(status) ? Buffer.from(head, 'utf8') : Buffer.concat([Buffer.from(head, 'utf8'), bodyBytes]);
  socket.end(bytes, () => socket.destroy());
  return true;
}
