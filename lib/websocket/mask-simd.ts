// The masking XOR of RFC 6455 §5.3 as a WebAssembly SIMD kernel: 16 bytes per instruction instead of
// the 4 a JavaScript Uint32Array loop manages. WebAssembly is part of V8, so this stays "Node core only"
// (ws needs a native C add-on, bufferutil, for the same job). Hot path, written for speed on purpose.
//
// The kernel is written below as instructions, read like the WebAssembly text format, and assembled into
// a module when this file loads (lib/wasm/assembler.ts says why at start-up rather than checked-in bytes).
// It sees only its own linear memory, so the caller copies a payload in, the kernel XORs it, and the
// caller copies it back: two memcpys (tens of GB/s) around a SIMD loop, which beats the JS word loop
// once the payload is long enough to pay for the calls (mask.ts holds the measured threshold).
// The copy cannot be avoided by receiving into WebAssembly memory: docs/masking.md explains why.

import { assembleModule, type Instruction } from '../wasm/assembler.ts';

/**
 * A payload longer than this is masked window by window: 64 KiB (a socket read's size) stays in L1/L2
 * between the copy in, the XOR and the copy out; larger windows measured no faster.
 */
const WINDOW_BYTES = 64 * 1024;

/**
 * Where in its page the window starts. On this machine's AMD EPYC (and other CPUs whose memcpy uses
 * "fast short rep movsb"), a copy runs at 0.4–1.7 GB/s instead of 20–40 when the destination sits 1–31
 * bytes after the source modulo 4096 (measured; docs/masking.md). A page-aligned window meets exactly that
 * when copying back into a large, page-aligned ArrayBuffer, so the window starts half a page away from
 * the payload's own page offset. The ArrayBuffer's base address is invisible to JavaScript: large ones
 * are page-aligned (or 16 bytes past), which this gets right; for small heap-allocated ones the distance
 * is pot luck either way.
 */
const HALF_PAGE = 2048;
const MEMORY_PAGES = Math.ceil((WINDOW_BYTES + 4096) / 65536);

// mask(start, end, key): XOR memory[start..end) with `key`, a 32-bit word whose lowest byte is the key byte
// for memory[start] (WebAssembly memory is little-endian).
const START = 0, END = 1, KEY = 2, KEYS = 3; // params, then the one local: the key splatted to 4 lanes

/** `count` blocks of 16 bytes from `start`: load, XOR with the key in all four lanes, store back. */
function xorBlocks(count: number): Instruction[] {
  const body: Instruction[] = [];
  for (let block = 0; block < count; block++) {
    // memarg: alignment 2^0 (windows start anywhere; unaligned v128 access is fast on x64 and ARM64), offset 16 × block.
    body.push(['local.get', START], ['local.get', START], ['v128.load', 0, block * 16], ['local.get', KEYS], ['v128.xor'], ['v128.store', 0, block * 16]);
  }
  return body;
}

/** A loop that runs `body` and advances `start` by `stride` while at least `stride` bytes remain. */
function whileRemaining(stride: number, body: Instruction[]): Instruction[] {
  return [
    ['block'], ['loop'],
    // if (end - start < stride) break  (br_if 1 leaves the enclosing block)
    ['local.get', END], ['local.get', START], ['i32.sub'], ['i32.const', stride], ['i32.lt_u'], ['br_if', 1],
    ...body,
    ['local.get', START], ['i32.const', stride], ['i32.add'], ['local.set', START],
    ['br', 0],
    ['end'], ['end'],
  ];
}

const MASK_KERNEL: Instruction[] = [
  ['local.get', KEY], ['i32x4.splat'], ['local.set', KEYS],
  // 64 bytes per turn (four independent 16-byte lanes keep the CPU's load/store ports busy), then 16 at a
  // time; whole blocks are multiples of 4 bytes, so the key's phase is unchanged after them.
  ...whileRemaining(64, xorBlocks(4)),
  ...whileRemaining(16, xorBlocks(1)),
  // Scalar tail (under 16 bytes): one byte at a time, the key rotated right by 8 so its low byte is the next one's.
  ...whileRemaining(1, [
    ['local.get', START], ['local.get', START], ['i32.load8_u', 0, 0], ['local.get', KEY], ['i32.xor'], ['i32.store8', 0, 0],
    ['local.get', KEY], ['i32.const', 8], ['i32.rotr'], ['local.set', KEY],
  ]),
];

export const MASK_MODULE_BYTES = assembleModule({
  memoryPages: MEMORY_PAGES,
  functions: [{ name: 'mask', params: ['i32', 'i32', 'i32'], locals: ['v128'], body: MASK_KERNEL }],
});

/**
 * The part of the WebAssembly API this file uses (the project's TypeScript setup has no DOM/WebAssembly
 * typings, so it is declared here). Tests pass a stand-in to simulate a runtime without SIMD.
 */
export interface WasmRuntime {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

export interface SimdMasker {
  /**
   * XOR `source[start..end)` with the key into `target` from `targetStart` (in place when they are the
   * same buffer and offset), where `littleEndianKey`'s lowest byte is the key byte for `source[start]`
   * (the key already rotated to the payload's phase).
   */
  mask(source: Buffer, start: number, end: number, littleEndianKey: number, target: Buffer, targetStart: number): void;
}

/**
 * The kernel, or `undefined` when this runtime cannot run it (no WebAssembly, or no SIMD: `validate`
 * rejects the module). The caller then keeps its JavaScript path.
 */
export function loadSimdMasker(runtime: WasmRuntime | undefined = (globalThis as { WebAssembly?: WasmRuntime }).WebAssembly): SimdMasker | undefined {
  if (runtime === undefined || !runtime.validate(MASK_MODULE_BYTES)) return undefined;
  let instance: { exports: Record<string, unknown> };
  try {
    // Synchronous compile: the module is a few hundred bytes, and the masking functions are synchronous.
    instance = new runtime.Instance(new runtime.Module(MASK_MODULE_BYTES));
  } catch {
    return undefined;
  }
  const kernel = instance.exports.mask as (start: number, end: number, key: number) => void;
  // The memory never grows, so this view never detaches.
  const window = Buffer.from((instance.exports.memory as { buffer: ArrayBuffer }).buffer);
  return {
    mask(source, start, end, littleEndianKey, target, targetStart) {
      // Windows are multiples of 4 bytes long, so every window starts at the same key phase.
      for (let from = start; from < end; from += WINDOW_BYTES) {
        const length = Math.min(WINDOW_BYTES, end - from);
        const at = ((source.byteOffset + from) & 4095) ^ HALF_PAGE;
        source.copy(window, at, from, from + length);
        kernel(at, at + length, littleEndianKey);
        window.copy(target, targetStart + (from - start), at, at + length);
      }
    },
  };
}
