// The wire inspector's decoder: one direction of a WebSocket connection's byte stream, turned into what a
// learner wants to see — the HTTP head of the opening handshake (RFC 6455 §4, §1.3) and then every frame
// field by field (§5.2: FIN, RSV1–3, opcode, MASK, the 7/16/64-bit length form, the masking key, the
// payload as sent and unmasked).
//
// It decodes with the project's own FrameParser, not a second implementation: what the inspector shows is
// what the connection itself reads. It is for inspection only, never on the hot path: every chunk is copied
// first, because the parser unmasks in place and the live connection must still see the original bytes.

import { FrameParser, type FrameHeader, type FrameSink } from './frame-parser.ts';
import { Opcode } from './opcodes.ts';

export type WireDirection = 'in' | 'out';

export interface TracedFrame {
  direction: WireDirection;
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** "text", "binary", "continuation", "close", "ping", "pong", or "reserved". */
  opcodeName: string;
  masked: boolean;
  /** The 4 key bytes, empty when unmasked. */
  maskKey: Buffer;
  payloadLength: number;
  lengthBits: 7 | 16 | 64;
  /** The header exactly as on the wire (2 to 14 bytes). */
  headerBytes: Buffer;
  /** The first payload bytes as they travelled (masked when MASK=1) and as the application sees them. */
  payloadOnWire: Buffer;
  payload: Buffer;
}

export type WireEvent =
  | { kind: 'http'; direction: WireDirection; lines: string[] }
  | { kind: 'frame'; frame: TracedFrame }
  /** The stream broke a framing rule (or an HTTP head was too large): the decoder stops here. */
  | { kind: 'invalid'; direction: WireDirection; reason: string };

export interface WireDecoderOptions {
  direction: WireDirection;
  /** Frames in this direction are masked: true for client→server (§5.1). */
  masked: boolean;
  /** The stream starts with an HTTP head (request or response) before the first frame. */
  httpHead: boolean;
  /** Payload bytes kept per frame for display (default 16). */
  payloadBytesShown?: number;
}

/** HTTP heads larger than this are not a handshake a browser or our client would send. */
const MAX_HTTP_HEAD_BYTES = 16 * 1024;

const OPCODE_NAMES: Record<number, string> = {
  [Opcode.Continuation]: 'continuation',
  [Opcode.Text]: 'text',
  [Opcode.Binary]: 'binary',
  [Opcode.Close]: 'close',
  [Opcode.Ping]: 'ping',
  [Opcode.Pong]: 'pong',
};

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? 'reserved';
}

/** Decodes one direction. `push` bytes as they pass; events come out through `onEvent`, in order. */
export class WireDecoder implements FrameSink {
  private readonly parser: FrameParser;
  private readonly shown: number;
  private head: Buffer[] | undefined;
  private headBytes = 0;
  private stopped = false;
  private frame: TracedFrame | undefined;
  private payloadSeen = 0;

  constructor(
    private readonly options: WireDecoderOptions,
    private readonly onEvent: (event: WireEvent) => void,
  ) {
    // RSV1 may be permessage-deflate's (RFC 7692): shown like the other bits, not treated as a broken stream.
    this.parser = new FrameParser(this, { expectMasked: options.masked, allowRsv1: true });
    this.shown = options.payloadBytesShown ?? 16;
    this.head = options.httpHead ? [] : undefined;
  }

  push(bytes: Buffer): void {
    if (this.stopped || bytes.length === 0) return;
    let frameBytes: Buffer = Buffer.from(bytes); // a copy: the parser unmasks in place
    if (this.head !== undefined) {
      const rest = this.readHttpHead(frameBytes);
      if (rest === undefined) return;
      frameBytes = rest;
    }
    this.pushFrames(frameBytes);
  }

  /** Collect the HTTP head; returns the bytes after it once it is complete. */
  private readHttpHead(bytes: Buffer): Buffer | undefined {
    const head = this.head!;
    head.push(bytes);
    this.headBytes += bytes.length;
    const all = head.length === 1 ? bytes : Buffer.concat(head, this.headBytes);
    const end = all.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.headBytes > MAX_HTTP_HEAD_BYTES) this.stop(`HTTP head larger than ${MAX_HTTP_HEAD_BYTES} bytes`);
      else if (head.length > 1) this.head = [all];
      return undefined;
    }
    this.head = undefined;
    this.onEvent({ kind: 'http', direction: this.options.direction, lines: all.toString('latin1', 0, end).split('\r\n') });
    return all.subarray(end + 4);
  }

  private pushFrames(bytes: Buffer): void {
    try {
      this.parser.push(bytes);
    } catch (error) {
      this.stop(error instanceof Error ? error.message : String(error));
    }
  }

  private stop(reason: string): void {
    this.stopped = true;
    this.onEvent({ kind: 'invalid', direction: this.options.direction, reason });
  }

  // ── FrameSink: called by the parser ───────────────────────────────────────────────────────────

  onFrameStart(header: FrameHeader): void {
    const key = Buffer.alloc(header.masked ? 4 : 0);
    if (header.masked) key.writeInt32BE(header.maskKey);
    this.frame = {
      direction: this.options.direction,
      fin: header.fin,
      rsv1: (header.reservedBits & 4) !== 0,
      rsv2: (header.reservedBits & 2) !== 0,
      rsv3: (header.reservedBits & 1) !== 0,
      opcode: header.opcode,
      opcodeName: opcodeName(header.opcode),
      masked: header.masked,
      maskKey: key,
      payloadLength: header.payloadLength,
      lengthBits: header.lengthBits,
      headerBytes: encodeHeaderAgain(header, key),
      payloadOnWire: Buffer.alloc(0),
      payload: Buffer.alloc(0),
    };
    this.payloadSeen = 0;
  }

  onFramePayload(data: Buffer): void {
    const frame = this.frame!;
    const wanted = Math.min(this.shown - this.payloadSeen, data.length);
    if (wanted > 0) {
      const unmasked = data.subarray(0, wanted);
      const onWire = Buffer.from(unmasked);
      // Mask the shown bytes again (masking is its own inverse) to show them as they travelled.
      for (let index = 0; index < wanted && frame.masked; index++) onWire[index] ^= frame.maskKey[(this.payloadSeen + index) & 3];
      frame.payload = Buffer.concat([frame.payload, unmasked]);
      frame.payloadOnWire = Buffer.concat([frame.payloadOnWire, onWire]);
    }
    this.payloadSeen += data.length;
  }

  onFrameEnd(): void {
    const frame = this.frame!;
    this.frame = undefined;
    this.onEvent({ kind: 'frame', frame });
  }
}

/**
 * The header bytes as they were on the wire. The parser hands over decoded fields, not bytes; the form
 * is fully determined by them (the length form is recorded, so a non-minimal length is shown as sent).
 */
function encodeHeaderAgain(header: FrameHeader, key: Buffer): Buffer {
  const extension = header.lengthBits === 16 ? 2 : header.lengthBits === 64 ? 8 : 0;
  const bytes = Buffer.alloc(2 + extension + key.length);
  bytes[0] = (header.fin ? 0x80 : 0) | (header.reservedBits << 4) | header.opcode;
  const lengthField = header.lengthBits === 16 ? 126 : header.lengthBits === 64 ? 127 : header.payloadLength;
  bytes[1] = (header.masked ? 0x80 : 0) | lengthField;
  if (header.lengthBits === 16) bytes.writeUInt16BE(header.payloadLength, 2);
  if (header.lengthBits === 64) bytes.writeBigUInt64BE(BigInt(header.payloadLength), 2);
  key.copy(bytes, 2 + extension);
  return bytes;
}
