// Payload masking: RFC 6455 §5.3 (client-to-server masking, the masking algorithm); docs/masking.md says
// why the protocol has it (§10.3) and how fast each path runs. XOR with a 4-byte key, applied in place.
// Hot path: written for speed on purpose. Two kernels:
//  - from SIMD_MASK_MIN_BYTES up, the WebAssembly SIMD kernel of mask-simd.ts (16 bytes per XOR, ~5× the
//    JS loop at 64 KiB, but a payload must be copied into its memory and back: that only pays past the
//    threshold);
//  - below it, or where WebAssembly SIMD is unavailable (or HANDROLLED_MASK=js asks for it), JavaScript:
//    whole 32-bit words where the data allows, the ragged edges byte by byte. It is also the reference the
//    tests hold the SIMD kernel to.

import { randomFillSync } from 'node:crypto';
import { loadSimdMasker, type SimdMasker } from './mask-simd.ts';

/**
 * From this many bytes the SIMD kernel takes over. Measured (bench codec section, "mask kernels" line):
 * the copies in and out cost ~200 ns per call, which the JS loop matches at about 256 bytes; from 384
 * bytes SIMD wins clearly (1.2× at 384 B, 2–3× at 1–2 KiB, ~5× at 64 KiB).
 */
export const SIMD_MASK_MIN_BYTES = 384;

/** Which kernel masks long payloads in this process: 'wasm-simd', or 'js' as the fallback. */
export type MaskKernel = 'wasm-simd' | 'js';

const simd: SimdMasker | undefined = process.env.HANDROLLED_MASK === 'js' ? undefined : loadSimdMasker();
export const maskKernel: MaskKernel = simd === undefined ? 'js' : 'wasm-simd';

/**
 * XOR `data[start..end)` in place with the 4-byte `mask`, as if the mask had been started
 * `maskOffset` bytes earlier (so a payload that arrives in several chunks can be unmasked chunk
 * by chunk: pass the number of payload bytes already unmasked). Masking and unmasking are the
 * same operation.
 */
export function applyMask(data: Buffer, mask: Buffer, maskOffset = 0, start = 0, end = data.length): void {
  applyMaskKey(data, (mask[0] << 24) | (mask[1] << 16) | (mask[2] << 8) | mask[3], maskOffset, start, end);
}

/**
 * `applyMask` with the key as one 32-bit number, big-endian (key byte 0 in the top bits): a parser can
 * keep the key of the frame in progress in a number field instead of a Buffer of its own.
 */
export function applyMaskKey(data: Buffer, key: number, maskOffset = 0, start = 0, end = data.length): void {
  if (end - start < SHORT_PAYLOAD_BYTES) maskShort(data, key, maskOffset, start, end); // small enough to inline here: the common frame
  else if (simd !== undefined && end - start >= SIMD_MASK_MIN_BYTES) simd.mask(data, start, end, littleEndianKey(key, maskOffset & 3), data, start);
  else applyMaskKeyJs(data, key, maskOffset, start, end);
}

/**
 * Below this the byte loop (four bytes per turn) beats setting up a Uint32Array view for the word loop.
 * Measured on unaligned payloads: 43 vs 66 ns at 32 bytes, 84 vs 153 ns at 96, even at about 256.
 */
const SHORT_PAYLOAD_BYTES = 256;

/**
 * XOR byte by byte, four at a time: the key rotated to the starting phase, split into its four bytes
 * once, so each byte costs one load, one XOR and one store (no per-byte shift of the key).
 */
function maskShort(data: Buffer, key: number, maskOffset: number, start: number, end: number): void {
  const word = rotated(key, maskOffset & 3);
  const k0 = word >>> 24;
  const k1 = (word >>> 16) & 0xff;
  const k2 = (word >>> 8) & 0xff;
  const k3 = word & 0xff;
  let index = start;
  for (const whole = end - 3; index < whole; index += 4) {
    data[index] ^= k0;
    data[index + 1] ^= k1;
    data[index + 2] ^= k2;
    data[index + 3] ^= k3;
  }
  if (index < end) data[index++] ^= k0;
  if (index < end) data[index++] ^= k1;
  if (index < end) data[index] ^= k2;
}

/**
 * Copy `source` into `target` at `targetStart`, masked with `key` (big-endian, as in `applyMaskKey`) from
 * phase 0: a client frame's payload. Through the SIMD kernel that is one copy in and one copy out; copying
 * first and masking in place would cost a third pass over the bytes.
 */
export function copyMasked(source: Buffer, target: Buffer, targetStart: number, key: number): void {
  if (simd !== undefined && source.length >= SIMD_MASK_MIN_BYTES) {
    simd.mask(source, 0, source.length, littleEndianKey(key, 0), target, targetStart);
    return;
  }
  source.copy(target, targetStart);
  applyMaskKeyJs(target, key, 0, targetStart, targetStart + source.length);
}

/** The JavaScript kernel behind `applyMaskKey`: the fallback, and the reference the SIMD kernel is tested against. */
export function applyMaskKeyJs(data: Buffer, key: number, maskOffset = 0, start = 0, end = data.length): void {
  if (end - start < SHORT_PAYLOAD_BYTES) return maskShort(data, key, maskOffset, start, end);
  let index = start;
  let phase = maskOffset & 3;
  // Step byte by byte to a 4-byte aligned address: a Uint32Array view needs one.
  while (((data.byteOffset + index) & 3) !== 0) {
    data[index] ^= (key >>> ((3 - phase) << 3)) & 0xff;
    index++;
    phase = (phase + 1) & 3;
  }
  // The key rotated to the current phase, read as one word in the platform's byte order, lines up
  // with the next four bytes as stored in memory.
  const wordCount = (end - index) >>> 2;
  const keyWord = littleEndian ? littleEndianKey(key, phase) : rotated(key, phase);
  const words = new Uint32Array(data.buffer, data.byteOffset + index, wordCount);
  for (let word = 0; word < wordCount; word++) words[word] ^= keyWord;
  index += wordCount << 2;
  // Whole words leave the phase where it was; finish the ragged tail byte by byte.
  for (; index < end; index++, phase = (phase + 1) & 3) data[index] ^= (key >>> ((3 - phase) << 3)) & 0xff;
}

/** The key rotated to start at key byte `phase`: big-endian, that byte in bits 31–24. */
function rotated(key: number, phase: number): number {
  return phase === 0 ? key : (key << (phase << 3)) | (key >>> ((4 - phase) << 3));
}

/** The rotated key as a little-endian word: its lowest byte (first in memory) is key byte `phase`. */
function littleEndianKey(key: number, phase: number): number {
  return byteSwap(rotated(key, phase));
}

function byteSwap(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;


/**
 * Masking keys for a client (§5.3: "MUST pick a fresh masking key … from a strong source of entropy").
 * One `randomFillSync` call fills a pool of keys; each frame takes the next four bytes, so a client
 * does not pay for a system call per frame.
 */
export class MaskKeySource {
  private readonly pool = Buffer.allocUnsafe(8192);
  private position = this.pool.length;

  /** A fresh 4-byte key. The returned view is only valid until the pool is refilled: copy it if kept. */
  next(): Buffer {
    if (this.position === this.pool.length) {
      randomFillSync(this.pool);
      this.position = 0;
    }
    const key = this.pool.subarray(this.position, this.position + 4);
    this.position += 4;
    return key;
  }

  /** Write a fresh 4-byte key into `target` at `offset`: the encoder's path, no Buffer view per frame. */
  writeKey(target: Buffer, offset: number): void {
    if (this.position === this.pool.length) {
      randomFillSync(this.pool);
      this.position = 0;
    }
    const pool = this.pool;
    const position = this.position;
    target[offset] = pool[position];
    target[offset + 1] = pool[position + 1];
    target[offset + 2] = pool[position + 2];
    target[offset + 3] = pool[position + 3];
    this.position = position + 4;
  }
}
