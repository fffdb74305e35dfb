// A deliberately dumb WebSocket client over a raw node:net socket, for conformance tests: it does the
// opening handshake by hand, sends whatever bytes it is told (hand-built frames, broken or not), and
// records every frame the server sends and the moment TCP ends. It shares no code with lib/websocket.

import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { DEFAULT_WAIT_MS } from './wait.ts';

export interface RawFrame {
  fin: boolean;
  reservedBits: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV bits as a number 0–7 (RSV1 is 4). */
  reservedBits?: number;
  /** Mask the frame (default true: a client must). */
  mask?: boolean;
  maskKey?: Buffer;
}

/** Build one frame by hand (RFC 6455 §5.2), independently of lib/websocket/frame-encoder.ts. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const mask = spec.mask ?? true;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.reservedBits ?? 0) << 4) | spec.opcode;
  header[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([header, payload]);
  const key = spec.maskKey ?? randomBytes(4);
  key.copy(header, 2 + lengthBytes);
  const masked = Buffer.alloc(length);
  for (let index = 0; index < length; index++) masked[index] = payload[index] ^ key[index % 4];
  return Buffer.concat([header, masked]);
}

/** A close frame body: a code and a reason. */
export function closeBody(code: number, reason: string | Buffer = ''): Buffer {
  const body = Buffer.alloc(2);
  body.writeUInt16BE(code);
  return Buffer.concat([body, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** Parse whole frames off the front of `bytes`; returns the frames and the bytes left over. */
export function parseFrames(bytes: Buffer): { frames: RawFrame[]; rest: Buffer } {
  const frames: RawFrame[] = [];
  let offset = 0;
  for (;;) {
    if (bytes.length - offset < 2) break;
    const first = bytes[offset];
    const second = bytes[offset + 1];
    let length = second & 0x7f;
    let position = offset + 2;
    if (length === 126) {
      if (bytes.length - position < 2) break;
      length = bytes.readUInt16BE(position);
      position += 2;
    } else if (length === 127) {
      if (bytes.length - position < 8) break;
      length = Number(bytes.readBigUInt64BE(position));
      position += 8;
    }
    const masked = (second & 0x80) !== 0;
    let key: Buffer | undefined;
    if (masked) {
      if (bytes.length - position < 4) break;
      key = bytes.subarray(position, position + 4);
      position += 4;
    }
    if (bytes.length - position < length) break;
    const payload = Buffer.from(bytes.subarray(position, position + length));
    if (key) for (let index = 0; index < length; index++) payload[index] ^= key[index % 4];
    frames.push({ fin: (first & 0x80) !== 0, reservedBits: (first >> 4) & 7, opcode: first & 0x0f, masked, payload });
    offset = position + length;
  }
  return { frames, rest: bytes.subarray(offset) };
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  /** Everything after the head (a refusal's body, or the first frames after a 101). */
  rest: Buffer;
}

export function handshakeRequest(path: string, key: string, extraHeaders: Record<string, string> = {}): string {
  const headers: Record<string, string> = {
    Host: 'localhost',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    ...extraHeaders,
  };
  let request = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== '') request += `${name}: ${value}\r\n`;
  return request + '\r\n';
}

/** The Sec-WebSocket-Accept a server must answer for `key` (§4.2.2), computed here on its own. */
export function expectedAccept(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/** A raw TCP connection recording everything received and when TCP ended. */
export class RawWebSocket {
  /** Bytes received before the handshake answer was read (afterwards they go to `frames`). */
  received = Buffer.alloc(0);
  readonly frames: RawFrame[] = [];
  /** True once the server's FIN (or a reset) arrived. */
  ended = false;
  closed = false;
  /** Bytes still to parse into frames (after the handshake). */
  private frameBytes = Buffer.alloc(0);
  private upgraded = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.upgraded) this.takeFrames(chunk);
      else this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      // A reset by the server is one of the ways a connection ends; 'close' follows.
    });
  }

  /** Open TCP to `port` (nothing sent yet). */
  static async tcp(port: number): Promise<RawWebSocket> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawWebSocket(socket);
  }

  /** Connect and complete a valid opening handshake; throws unless the answer is 101. */
  static async open(port: number, path = '/', extraHeaders: Record<string, string> = {}): Promise<RawWebSocket> {
    const raw = await RawWebSocket.tcp(port);
    const key = randomBytes(16).toString('base64');
    raw.socket.write(handshakeRequest(path, key, extraHeaders));
    const answer = await raw.readHttpAnswer();
    if (answer.statusCode !== 101) {
      raw.destroy();
      throw new Error(`handshake refused: ${answer.statusCode} ${answer.rest.toString()}`);
    }
    if (answer.headers['sec-websocket-accept'] !== expectedAccept(key)) throw new Error('wrong Sec-WebSocket-Accept');
    return raw;
  }

  /** Wait for a complete HTTP response head; after it, incoming bytes are parsed as frames. */
  async readHttpAnswer(timeoutMs = DEFAULT_WAIT_MS): Promise<HttpAnswer> {
    await this.until(() => this.received.includes('\r\n\r\n') || this.ended, timeoutMs, 'an HTTP response');
    const headEnd = this.received.indexOf('\r\n\r\n');
    if (headEnd === -1) throw new Error(`connection ended before an HTTP response: ${JSON.stringify(this.received.toString('latin1'))}`);
    const lines = this.received.toString('latin1', 0, headEnd).split('\r\n');
    const statusCode = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const rest = this.received.subarray(headEnd + 4);
    if (statusCode === 101) {
      this.upgraded = true;
      this.takeFrames(rest);
    }
    return { statusCode, headers, rest };
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  sendFrame(spec: FrameSpec): void {
    this.socket.write(buildFrame(spec));
  }

  /** Wait for the `index`-th frame received (0-based) and return it. */
  async frame(index: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RawFrame> {
    await this.until(() => this.frames.length > index || this.ended, timeoutMs, `frame #${index}`);
    const frame = this.frames[index];
    if (!frame) throw new Error(`connection ended after ${this.frames.length} frames, before frame #${index}`);
    return frame;
  }

  /** Wait until `count` frames have arrived. */
  async framesUntil(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RawFrame[]> {
    await this.until(() => this.frames.length >= count || this.ended, timeoutMs, `${count} frames`);
    if (this.frames.length < count) throw new Error(`connection ended after ${this.frames.length} of ${count} frames`);
    return this.frames.slice(0, count);
  }

  /**
   * Wait for the server's close frame and for TCP to end. Returns the close code (1005 for an empty
   * body), the reason, and whether any frame came after the close.
   */
  async closeAndEnd(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string; framesAfterClose: number }> {
    await this.until(() => this.ended, timeoutMs, 'the server to end TCP');
    const index = this.frames.findIndex((frame) => frame.opcode === 0x8);
    if (index === -1) throw new Error(`TCP ended without a close frame (frames: ${this.frames.map((frame) => frame.opcode).join(',')})`);
    const body = this.frames[index].payload;
    return {
      code: body.length >= 2 ? body.readUInt16BE(0) : 1005,
      reason: body.subarray(2).toString(),
      framesAfterClose: this.frames.length - index - 1,
    };
  }

  /** Wait for the server's close frame only (TCP may stay up). */
  async closeFrame(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    await this.until(() => this.frames.some((frame) => frame.opcode === 0x8) || this.ended, timeoutMs, 'a close frame');
    const frame = this.frames.find((candidate) => candidate.opcode === 0x8);
    if (!frame) throw new Error('TCP ended without a close frame');
    return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
  }

  /** Wait until TCP has ended. */
  async end(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.until(() => this.ended, timeoutMs, 'TCP to end');
  }

  destroy(): void {
    this.socket.destroy();
  }

  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private takeFrames(chunk: Buffer): void {
    const { frames, rest } = parseFrames(this.frameBytes.length === 0 ? chunk : Buffer.concat([this.frameBytes, chunk]));
    this.frames.push(...frames);
    this.frameBytes = Buffer.from(rest);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
