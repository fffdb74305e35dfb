// Frame encoder: RFC 6455 §5.2 (base framing), §5.3 (client masking).
// Builds the header for a frame; a server's payload goes out as it is, a client's is masked into a copy.

import { applyMask, MaskKeySource } from './mask.ts';

/** Below this a frame is built as one buffer (header + payload copied together); above it, header and payload go out as two buffers so a large payload is never copied. */
export const SMALL_FRAME_BYTES = 1024;

/** Header size for a payload of `length` bytes. */
export function frameHeaderLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Write a frame header into `target` at `offset`; returns the offset after it. */
export function writeFrameHeader(
  target: Buffer,
  offset: number,
  opcode: number,
  payloadLength: number,
  fin: boolean,
  maskKey?: Buffer,
): number {
  target[offset] = (fin ? 0x80 : 0) | opcode;
  const maskBit = maskKey ? 0x80 : 0;
  if (payloadLength < 126) {
    target[offset + 1] = maskBit | payloadLength;
    offset += 2;
  } else if (payloadLength < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target.writeUInt16BE(payloadLength, offset + 2);
    offset += 4;
  } else {
    target[offset + 1] = maskBit | 127;
    // Two 32-bit halves: payloads over 4 GiB are legal on the wire, even if nobody should send them.
    target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), offset + 2);
    target.writeUInt32BE(payloadLength >>> 0, offset + 6);
    offset += 10;
  }
  if (maskKey) {
    target[offset] = maskKey[0];
    target[offset + 1] = maskKey[1];
    target[offset + 2] = maskKey[2];
    target[offset + 3] = maskKey[3];
    offset += 4;
  }
  return offset;
}

/**
 * Encode one frame as the buffers to write: one buffer for small frames, [header, payload] for large
 * unmasked ones. With a `maskKeys` source (client side) the payload is masked into a copy, never in place
 * (the caller's buffer may be reused, e.g. for a broadcast).
 */
export function encodeFrame(opcode: number, payload: Buffer, fin = true, maskKeys?: MaskKeySource): Buffer[] {
  const length = payload.length;
  const maskKey = maskKeys?.next();
  const headerBytes = frameHeaderLength(length, maskKey !== undefined);
  if (maskKey !== undefined || length < SMALL_FRAME_BYTES) {
    const frame = Buffer.allocUnsafe(headerBytes + length);
    const payloadStart = writeFrameHeader(frame, 0, opcode, length, fin, maskKey);
    payload.copy(frame, payloadStart);
    if (maskKey !== undefined) applyMask(frame, maskKey, 0, payloadStart, frame.length);
    return [frame];
  }
  const header = Buffer.allocUnsafe(headerBytes);
  writeFrameHeader(header, 0, opcode, length, fin);
  return [header, payload];
}
