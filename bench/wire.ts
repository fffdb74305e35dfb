// The load generator's own WebSocket wire (RFC 6455 §4.1 handshake, §5.2 framing), independent of both
// libraries under test: a hand-written upgrade request, frames masked once and reused, and a counter
// that reads only frame headers and skips payloads, so the generator spends almost nothing per message.

import * as net from 'node:net';

/** A fixed key is fine: the generator does not check Sec-WebSocket-Accept, only the 101 status. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const HEADER_END = Buffer.from('\r\n\r\n');

/** `extraHeaders`: whole header lines, e.g. `Sec-WebSocket-Extensions: permessage-deflate\r\n`. */
export function upgradeRequest(port: number, path = '/', extraHeaders = ''): Buffer {
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
}

export const Opcode = { Text: 1, Binary: 2, Close: 8 } as const;

/** One client frame (masked, as §5.3 requires) carrying `payload`. Built once, written many times. */
export function maskedFrame(opcode: number, payload: Buffer, maskKey = Buffer.from([0x12, 0x34, 0x56, 0x78])): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) {
    frame[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  const keyAt = 2 + lengthBytes;
  maskKey.copy(frame, keyAt);
  for (let index = 0; index < length; index++) frame[keyAt + 4 + index] = payload[index] ^ maskKey[index & 3];
  return frame;
}

/** The same frame `count` times back to back: a window of messages leaves in one write. */
export function repeated(frame: Buffer, count: number): Buffer {
  const bytes = Buffer.allocUnsafe(frame.length * count);
  for (let index = 0; index < count; index++) frame.copy(bytes, index * frame.length);
  return bytes;
}

/** Counts complete frames in a byte stream by reading headers and skipping payloads (masked or not). */
export class FrameCounter {
  private remaining = 0;
  private readonly partial = Buffer.alloc(14);
  private partialLength = 0;

  /** Feed received bytes; returns how many frames ended in them. */
  push(chunk: Buffer): number {
    let frames = 0;
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, end - offset);
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) frames++;
        continue;
      }
      const available = end - offset;
      if (this.partialLength === 0 && available >= 2 && available >= headerLength(chunk[offset + 1])) {
        const length = payloadLength(chunk, offset);
        offset += headerLength(chunk[offset + 1]);
        if (length === 0) frames++;
        else this.remaining = length;
        continue;
      }
      // A header split across chunks: collect it.
      this.partial[this.partialLength++] = chunk[offset++];
      if (this.partialLength >= 2 && this.partialLength === headerLength(this.partial[1])) {
        const length = payloadLength(this.partial, 0);
        this.partialLength = 0;
        if (length === 0) frames++;
        else this.remaining = length;
      }
    }
    return frames;
  }
}

function headerLength(secondByte: number): number {
  const length = secondByte & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (secondByte & 0x80 ? 4 : 0);
}

function payloadLength(bytes: Buffer, at: number): number {
  const length = bytes[at + 1] & 0x7f;
  if (length === 126) return bytes.readUInt16BE(at + 2);
  if (length === 127) return bytes.readUInt32BE(at + 2) * 0x100000000 + bytes.readUInt32BE(at + 6);
  return length;
}

export interface OpenWebSocket {
  socket: net.Socket;
  /** Bytes that arrived after the 101 response, already part of the frame stream. */
  leftover: Buffer;
}

/** Connect, send the upgrade request, wait for the 101. Rejects on any other answer or after `timeoutMs`. */
export function openWebSocket(port: number, path = '/', timeoutMs = 30_000, extraHeaders = '', localAddress?: string): Promise<OpenWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, localAddress });
    let received: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no handshake answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.once('connect', () => socket.write(upgradeRequest(port, path, extraHeaders)));
    socket.on('error', fail);
    socket.on('data', function onData(chunk: Buffer) {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const end = received.indexOf(HEADER_END);
      if (end === -1) {
        if (received.length > 16_384) fail(new Error('handshake response too long'));
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
      if (!statusLine.startsWith('HTTP/1.1 101')) {
        fail(new Error(`handshake refused: ${statusLine}`));
        return;
      }
      resolve({ socket, leftover: received.subarray(end + 4) });
    });
  });
}

/**
 * Open `count` connections, at most `concurrency` handshakes at a time (a burst of 10,000 SYNs overflows the
 * backlog). `localAddress` (another 127.0.0.x) gives a generator its own ~28,000 ephemeral ports: one source
 * address cannot hold more connections to one server port than that. A failed handshake is tried again up
 * to `retries` times; `extraHeaders` (CRLF-ended lines) go into each upgrade request (the result's `retried` counts them): on a busy machine one of 100,000 may time out.
 */
export async function openMany(port: number, count: number, path = '/', concurrency = 200, extraHeaders = '', localAddress?: string, retries = 0): Promise<OpenWebSocket[] & { retried?: number }> {
  const opened: OpenWebSocket[] = [];
  let next = 0;
  let retried = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      next++;
      for (let attempt = 0; ; attempt++) {
        try {
          opened.push(await openWebSocket(port, path, 30_000, extraHeaders, localAddress));
          break;
        } catch (error) {
          if (attempt >= retries) throw error;
          retried++;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return Object.assign(opened, { retried });
}
