// Frame encoder: RFC 6455 §5.2 (base framing), §5.3 (client masking).
// Builds the header for a frame; a server's payload goes out as it is, a client's is masked into a copy.
// Hot path, written for speed: small server frames cost no allocation here, small client frames one.

import { copyMasked, MaskKeySource } from './mask.ts';

/** Below this a frame is built as one buffer (header + payload copied together); above it, header and payload go out as two buffers so a large payload is never copied. */
export const SMALL_FRAME_BYTES = 1024;

/** OR this into `opcode` to set RSV1: the first frame of a compressed message (RFC 7692 §6). */
export const RSV1_FLAG = 0x40;

/** Below this a masked payload is XORed byte by byte with the key in locals; above it, copied masked by mask.ts. */
const BYTEWISE_MASK_BYTES = 32;

/** Header size for a payload of `length` bytes. */
export function frameHeaderLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Write a frame header without its masking key into `target` at `offset`; returns the offset after it
 * (where a masked frame's 4 key bytes go).
 */
export function writeFrameHeader(target: Buffer, offset: number, opcode: number, payloadLength: number, fin: boolean, masked: boolean): number {
  target[offset] = (fin ? 0x80 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
    return offset + 2;
  }
  if (payloadLength < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target.writeUInt16BE(payloadLength, offset + 2);
    return offset + 4;
  }
  target[offset + 1] = maskBit | 127;
  // Two 32-bit halves: payloads over 4 GiB are legal on the wire, even if nobody should send them.
  target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), offset + 2);
  target.writeUInt32BE(payloadLength >>> 0, offset + 6);
  return offset + 10;
}

// Ready-made 2-byte headers of unmasked frames with a payload under 126 bytes: such a header depends only
// on (FIN, opcode, length), so a server's small frame needs no allocation at all. 32 first bytes × 126
// lengths = 8 KiB, filled once; the Buffer views onto it are made on first use. These bytes are shared by
// every connection and must never be written to (the write path only copies or sends them).
const SHORT_HEADER_LENGTHS = 126;
const shortHeaderBytes = Buffer.alloc(32 * SHORT_HEADER_LENGTHS * 2);
for (let firstByte = 0; firstByte < 32; firstByte++) {
  for (let length = 0; length < SHORT_HEADER_LENGTHS; length++) {
    const at = (firstByte * SHORT_HEADER_LENGTHS + length) * 2;
    shortHeaderBytes[at] = ((firstByte & 0x10) << 3) | (firstByte & 0x0f);
    shortHeaderBytes[at + 1] = length;
  }
}
const shortHeaders: (Buffer | undefined)[] = new Array(32 * SHORT_HEADER_LENGTHS).fill(undefined);

/** The shared, read-only header of an unmasked frame with a payload under 126 bytes. */
function shortHeader(opcode: number, length: number, fin: boolean): Buffer {
  const index = ((fin ? 0x10 : 0) | opcode) * SHORT_HEADER_LENGTHS + length;
  let header = shortHeaders[index];
  if (header === undefined) {
    header = shortHeaderBytes.subarray(index * 2, index * 2 + 2);
    shortHeaders[index] = header;
  }
  return header;
}

/**
 * Encode one frame as the buffers to write. Server side (no `maskKeys`): [header, payload] with the
 * caller's own payload for frames under 126 bytes (a shared header, no allocation: the write batcher
 * copies the small pieces of a tick into one buffer anyway) and for large frames (never copied);
 * one buffer in between. Client side: one buffer, the payload masked into a copy, never in place
 * (the caller's buffer may be reused, e.g. for a broadcast).
 * Either way the payload must not change until it is written: the server side keeps a reference.
 */
export function encodeFrame(opcode: number, payload: Buffer, fin = true, maskKeys?: MaskKeySource): Buffer[] {
  const length = payload.length;
  if (maskKeys !== undefined) return [encodeMaskedFrame(opcode, payload, fin, maskKeys)];
  // The shared headers cover plain opcodes only; a frame with RSV1 takes the one-buffer path below.
  if (length < SHORT_HEADER_LENGTHS && opcode < RSV1_FLAG) return length === 0 ? [shortHeader(opcode, 0, fin)] : [shortHeader(opcode, length, fin), payload];
  const headerBytes = frameHeaderLength(length, false);
  if (length < SMALL_FRAME_BYTES) {
    const frame = Buffer.allocUnsafe(headerBytes + length);
    payload.copy(frame, writeFrameHeader(frame, 0, opcode, length, fin, false));
    return [frame];
  }
  const header = Buffer.allocUnsafe(headerBytes);
  writeFrameHeader(header, 0, opcode, length, fin, false);
  return [header, payload];
}

/** A client frame (§5.3): header, a fresh key taken straight from the pool, the payload masked into the copy. */
function encodeMaskedFrame(opcode: number, payload: Buffer, fin: boolean, maskKeys: MaskKeySource): Buffer {
  const length = payload.length;
  const frame = Buffer.allocUnsafe(frameHeaderLength(length, true) + length);
  const keyStart = writeFrameHeader(frame, 0, opcode, length, fin, true);
  maskKeys.writeKey(frame, keyStart);
  const payloadStart = keyStart + 4;
  if (length < BYTEWISE_MASK_BYTES) {
    // Short payloads: XOR while copying, the key in locals — no view, no second pass.
    const key0 = frame[keyStart], key1 = frame[keyStart + 1], key2 = frame[keyStart + 2], key3 = frame[keyStart + 3];
    let index = 0;
    for (; index + 4 <= length; index += 4) {
      frame[payloadStart + index] = payload[index] ^ key0;
      frame[payloadStart + index + 1] = payload[index + 1] ^ key1;
      frame[payloadStart + index + 2] = payload[index + 2] ^ key2;
      frame[payloadStart + index + 3] = payload[index + 3] ^ key3;
    }
    if (index < length) frame[payloadStart + index] = payload[index] ^ key0;
    if (index + 1 < length) frame[payloadStart + index + 1] = payload[index + 1] ^ key1;
    if (index + 2 < length) frame[payloadStart + index + 2] = payload[index + 2] ^ key2;
    return frame;
  }
  copyMasked(payload, frame, payloadStart, frame.readUInt32BE(keyStart));
  return frame;
}
