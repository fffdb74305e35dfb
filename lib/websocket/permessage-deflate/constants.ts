// Constants of permessage-deflate on the wire (RFC 7692 §7) and the one zlib quirk they meet.

export const EXTENSION_NAME = 'permessage-deflate';

/** Window sizes a peer may negotiate: 2^8 to 2^15 bytes (§7.1.2). Absent means 15. */
export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;

/**
 * The empty stored block a sync flush ends with (§7.2.1): the sender strips it from every message,
 * the receiver appends it again before inflating (§7.2.2).
 */
export const DEFLATE_TAIL: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * The windowBits to give zlib's raw compressor for a negotiated window. zlib cannot compress raw
 * deflate with a 256-byte window (madler/zlib#171: deflateInit2 refuses -8; Node quietly turns 8 into 9,
 * python-websockets declines 8 since 2026). Using 9 is nevertheless correct for an agreed 8: zlib never
 * emits a match farther back than the window minus 262 bytes (MAX_DIST), 250 for a 512-byte window, so
 * everything it writes fits a 256-byte window — the test "windowBits 8" inflates it with an 8-bit
 * inflater to prove it. Decompression takes the negotiated value as is (zlib inflates raw 8 fine).
 */
export function compressorWindowBits(negotiated: number): number {
  return Math.max(negotiated, 9);
}
