// A message framed once for many receivers: RFC 6455 §5.6 data frames, server side (unmasked, §5.1).
// Broadcasting to a thousand sockets then costs one encoding and a thousand references to the same bytes.
// With permessage-deflate (RFC 7692 §7.2.1) it is also compressed once per window size, with a fresh
// zlib context: a message that refers to no earlier one can go, the same bytes, to every receiver
// that agreed to a window at least that large and to no context takeover on our side (the same idea
// as uWebSockets' shared compressor).

import zlib from 'node:zlib';
import { encodeFrame, RSV1_FLAG } from './frame-encoder.ts';
import { Opcode } from './opcodes.ts';
import { compressorWindowBits, DEFLATE_TAIL, MIN_WINDOW_BITS } from './permessage-deflate/constants.ts';

export class PreparedMessage {
  /** The frame's bytes as a server sends them: header and payload, in one or two buffers. */
  readonly frame: readonly Buffer[];
  readonly payload: Buffer;
  readonly isBinary: boolean;
  /** Compressed frames by window bits − 8, made on first use. */
  private compressed: (readonly Buffer[] | undefined)[] | undefined;

  constructor(data: string | Buffer, options: { binary?: boolean } = {}) {
    this.isBinary = options.binary ?? typeof data !== 'string';
    this.payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.frame = encodeFrame(this.isBinary ? Opcode.Binary : Opcode.Text, this.payload);
  }

  /**
   * The message deflated alone (no context) for a receiver's window of `windowBits`, framed with RSV1;
   * or the plain frame when compressing does not make it smaller. Synchronous: one zlib call per
   * broadcast and window size, however many receivers (zlib's default level and memLevel).
   */
  compressedFrame(windowBits: number): readonly Buffer[] {
    const cache = (this.compressed ??= []);
    const cached = cache[windowBits - MIN_WINDOW_BITS];
    if (cached !== undefined) return cached;
    const flushed = zlib.deflateRawSync(this.payload, { windowBits: compressorWindowBits(windowBits), finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const tailed = flushed.length >= DEFLATE_TAIL.length && flushed.subarray(flushed.length - DEFLATE_TAIL.length).equals(DEFLATE_TAIL);
    const payload = flushed.subarray(0, flushed.length - DEFLATE_TAIL.length);
    const frame = tailed && payload.length > 0 && payload.length < this.payload.length ? encodeFrame((this.isBinary ? Opcode.Binary : Opcode.Text) | RSV1_FLAG, payload) : this.frame;
    cache[windowBits - MIN_WINDOW_BITS] = frame;
    return frame;
  }
}
