// Incremental frame parser: RFC 6455 §5.2 (base framing) with §5.3 (unmasking) and the framing rules
// of §5.5 (control frames). Bytes go in split anywhere; frame headers and unmasked payload pieces come out.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |     Extended payload length continued, if payload len == 127  |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               |Masking-key, if MASK set to 1  |
//  +-------------------------------+-------------------------------+
//  | Masking-key (continued)       |          Payload Data         |
//  +-------------------------------- - - - - - - - - - - - - - - - +
//
// Hot path, written for speed: a header that lies whole inside the chunk is read in place; payload
// is handed on as views of the incoming chunk (no copy, no Buffer.concat), unmasked in place.

import { CloseCode } from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { applyMaskKey } from './mask.ts';
import { MAX_CONTROL_PAYLOAD, isControlOpcode, isKnownOpcode } from './opcodes.ts';

export interface FrameHeader {
  fin: boolean;
  /** The three RSV bits as a number 0–7 (RSV1 is 4). */
  reservedBits: number;
  opcode: number;
  masked: boolean;
  payloadLength: number;
  /** Which length form the sender used: the 7-bit field alone, or 126/127 and a 16- or 64-bit extension (§5.2). */
  lengthBits: 7 | 16 | 64;
  /** The masking key as one 32-bit number, key byte 0 in the top bits (0 when unmasked). */
  maskKey: number;
}

/** Where parsed frames go. Throwing a WebSocketError from any method fails the connection. */
export interface FrameSink {
  /** A header was read: check it before a single payload byte is accepted. The object is reused: copy what you keep. */
  onFrameStart(header: FrameHeader): void;
  /** Unmasked payload bytes as they arrive: a view into the input, valid during the call only. */
  onFramePayload(data: Buffer): void;
  onFrameEnd(): void;
}

export interface FrameParserOptions {
  /** A server requires masked frames from its client, a client requires unmasked ones (§5.1). */
  expectMasked: boolean;
  /** RSV1 is defined by a negotiated extension (permessage-deflate, RFC 7692 §6): the sink checks where it appears. */
  allowRsv1?: boolean;
}

/** The largest header: 2 bytes + 8 of extended length + 4 of masking key. */
const MAX_HEADER_BYTES = 14;

export class FrameParser {
  private readonly header: FrameHeader = { fin: false, reservedBits: 0, opcode: 0, masked: false, payloadLength: 0, lengthBits: 7, maskKey: 0 };
  /**
   * Header bytes collected across chunks, used only when a header is split (the slow path): allocated
   * then, not up front — an idle connection holds no buffer at all.
   */
  private partialHeader: Buffer | undefined;
  private partialHeaderLength = 0;
  private readingPayload = false;
  private payloadRemaining = 0;
  /** Payload bytes of the current frame already unmasked: the mask phase for the next piece. */
  private payloadOffset = 0;
  /** Set by `stop()`: the rest of the input is left unread. */
  private stopped = false;
  /** Set by `pause()`: `push` returns at the end of the current frame. */
  private paused = false;
  /** The RSV bits no negotiated extension defines (§5.2): all three, or RSV2 and RSV3 when RSV1 is permessage-deflate's. */
  private readonly forbiddenReservedBits: number;

  constructor(
    private readonly sink: FrameSink,
    private readonly options: FrameParserOptions,
  ) {
    this.forbiddenReservedBits = options.allowRsv1 === true ? 0b011 : 0b111;
  }

  /**
   * Feed bytes from `start`. Returns where it stopped: the end of the chunk, or the end of a frame after
   * which the sink called `pause()` (feed the rest later, from there). Throws WebSocketError on a
   * framing violation; the parser must not be used after that.
   */
  push(chunk: Buffer, start = 0): number {
    let offset = start;
    const end = chunk.length;
    this.paused = false;
    while (offset < end && !this.stopped && !this.paused) {
      if (this.readingPayload) {
        offset = this.readPayload(chunk, offset);
      } else {
        offset = this.readHeader(chunk, offset);
      }
    }
    return offset;
  }

  /** Return from `push` at the end of the frame being read: the sink has enough for now. */
  pause(): void {
    this.paused = true;
  }

  /** True after `stop()`: whatever was not read is to be discarded. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Read nothing more, from this chunk or any other: the sink calls this from a callback once the
   * connection is closed (§7.1.1: bytes after a close frame are discarded), which ends `push` early.
   */
  stop(): void {
    this.stopped = true;
  }

  private readPayload(chunk: Buffer, offset: number): number {
    const take = Math.min(this.payloadRemaining, chunk.length - offset);
    const piece = chunk.subarray(offset, offset + take);
    if (this.header.masked) applyMaskKey(piece, this.header.maskKey, this.payloadOffset);
    this.payloadOffset += take;
    this.payloadRemaining -= take;
    this.sink.onFramePayload(piece);
    if (this.payloadRemaining === 0) this.endFrame();
    return offset + take;
  }

  private readHeader(chunk: Buffer, offset: number): number {
    // Fast path: nothing collected yet and the whole header is in this chunk.
    const available = chunk.length - offset;
    if (this.partialHeaderLength === 0 && available >= 2) {
      const length = headerLength(chunk[offset + 1]);
      if (available >= length) {
        this.decodeHeader(chunk, offset);
        return offset + length;
      }
    }
    // Slow path: the header is split across chunks; collect it byte by byte (at most 14 bytes).
    const partial = (this.partialHeader ??= Buffer.allocUnsafe(MAX_HEADER_BYTES));
    partial[this.partialHeaderLength++] = chunk[offset++];
    while (offset < chunk.length) {
      const needed = this.partialHeaderLength >= 2 ? headerLength(partial[1]) : 2;
      if (this.partialHeaderLength === needed) break;
      partial[this.partialHeaderLength++] = chunk[offset++];
    }
    if (this.partialHeaderLength >= 2 && this.partialHeaderLength === headerLength(partial[1])) {
      this.partialHeaderLength = 0;
      this.decodeHeader(partial, 0);
    }
    return offset;
  }

  /**
   * Read a complete header starting at `at`, check the framing rules, and start the payload. Hot path:
   * one test covers every rule a header can break, and the error for the rule broken is built out of
   * line (`headerViolation`), which keeps this function small enough for V8 to inline into `push`.
   */
  private decodeHeader(bytes: Buffer, at: number): void {
    const first = bytes[at];
    const second = bytes[at + 1];
    const header = this.header;
    const opcode = first & 0x0f;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    header.fin = (first & 0x80) !== 0;
    header.reservedBits = (first >>> 4) & 0x7;
    header.opcode = opcode;
    header.masked = masked;
    if (
      (header.reservedBits & this.forbiddenReservedBits) !== 0 ||
      !isKnownOpcode(opcode) ||
      (isControlOpcode(opcode) && (!header.fin || length > MAX_CONTROL_PAYLOAD)) ||
      masked !== this.options.expectMasked
    ) {
      throw this.headerViolation(length);
    }
    let position = at + 2;
    header.lengthBits = 7;
    if (length === 126) {
      header.lengthBits = 16;
      length = bytes.readUInt16BE(position);
      position += 2;
    } else if (length === 127) {
      header.lengthBits = 64;
      length = readLength64(bytes, position);
      position += 8;
    }
    header.payloadLength = length;
    header.maskKey = masked ? (bytes[position] << 24) | (bytes[position + 1] << 16) | (bytes[position + 2] << 8) | bytes[position + 3] : 0;

    this.sink.onFrameStart(header);
    this.payloadOffset = 0;
    this.payloadRemaining = length;
    if (length === 0) {
      this.endFrame();
    } else {
      this.readingPayload = true;
    }
  }

  /** The rule the header just read breaks, as the error that fails the connection (the cold side of `decodeHeader`). */
  private headerViolation(length: number): WebSocketError {
    const header = this.header;
    // §5.2: RSV bits MUST be 0 unless a negotiated extension defines them (only RSV1 ever is: RFC 7692).
    if ((header.reservedBits & this.forbiddenReservedBits) !== 0) {
      return new WebSocketError('RESERVED_BITS', CloseCode.ProtocolError, `reserved bits set (RSV=${header.reservedBits}) that no negotiated extension defines`);
    }
    if (!isKnownOpcode(header.opcode)) return new WebSocketError('RESERVED_OPCODE', CloseCode.ProtocolError, `reserved opcode ${header.opcode}`);
    // §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
    if (!header.fin && isControlOpcode(header.opcode)) return new WebSocketError('FRAGMENTED_CONTROL_FRAME', CloseCode.ProtocolError, 'fragmented control frame');
    if (length > MAX_CONTROL_PAYLOAD && isControlOpcode(header.opcode)) {
      return new WebSocketError('CONTROL_FRAME_TOO_LONG', CloseCode.ProtocolError, 'control frame payload over 125 bytes');
    }
    // §5.1: a client masks every frame, a server masks none.
    return header.masked
      ? new WebSocketError('MASKED_FRAME', CloseCode.ProtocolError, 'masked frame from a server')
      : new WebSocketError('UNMASKED_FRAME', CloseCode.ProtocolError, 'unmasked frame from a client');
  }

  private endFrame(): void {
    this.readingPayload = false;
    this.sink.onFrameEnd();
  }
}

/** The 64-bit extended payload length at `position` (§5.2), as a number of bytes. */
function readLength64(bytes: Buffer, position: number): number {
  const high = bytes.readUInt32BE(position);
  // §5.2: "the most significant bit MUST be 0".
  if (high >= 0x80000000) throw new WebSocketError('INVALID_LENGTH', CloseCode.ProtocolError, '64-bit payload length with the most significant bit set');
  // Beyond 2^53 − 1 a JavaScript number can no longer count bytes exactly.
  if (high > 0x1fffff) throw new WebSocketError('LENGTH_TOO_LARGE', CloseCode.MessageTooBig, 'payload length above 2^53 - 1');
  return high * 0x100000000 + bytes.readUInt32BE(position + 4);
}

/** Header size announced by the second byte: 2, plus 2 or 8 for an extended length, plus 4 for a mask. */
function headerLength(secondByte: number): number {
  const length = secondByte & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + ((secondByte & 0x80) !== 0 ? 4 : 0);
}
