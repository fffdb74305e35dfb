// Masking (RFC 6455 §5.3): the WebAssembly SIMD kernel against the JavaScript one, byte for byte, and the
// fallback to JavaScript where WebAssembly SIMD is unavailable (simulated in-process with a stand-in
// runtime, and in child processes whose WebAssembly rejects the module or with HANDROLLED_MASK=js).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { applyMask, applyMaskKey, applyMaskKeyJs, copyMasked, maskKernel, SIMD_MASK_MIN_BYTES } from '../lib/websocket/mask.ts';
import { loadSimdMasker, MASK_MODULE_BYTES, type WasmRuntime } from '../lib/websocket/mask-simd.ts';

const KEY = 0x9a_3c_e1_07;

/** The key as the SIMD kernel takes it: rotated to `phase`, little-endian (lowest byte = key byte `phase`). */
function littleEndianKey(key: number, phase: number): number {
  const bytes = [key >>> 24, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
  return (bytes[phase] | (bytes[(phase + 1) & 3] << 8) | (bytes[(phase + 2) & 3] << 16) | (bytes[(phase + 3) & 3] << 24)) >>> 0;
}

function patterned(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 131 + 7) & 0xff;
  return bytes;
}

describe('the WebAssembly SIMD kernel agrees with the JavaScript kernel', () => {
  const simd = loadSimdMasker();

  test('this Node has WebAssembly SIMD, so the public functions use it', () => {
    assert.ok(simd, 'loadSimdMasker() should succeed on Node 20');
    assert.equal(maskKernel, process.env.HANDROLLED_MASK === 'js' ? 'js' : 'wasm-simd');
  });

  test('every length 0–300 at every buffer offset 0–15 and key phase 0–3, bytes outside the range untouched', () => {
    const base = patterned(300 + 32);
    for (let length = 0; length <= 300; length++) {
      for (let offset = 0; offset < 16; offset++) {
        for (let phase = 0; phase < 4; phase++) {
          const expected = Buffer.from(base);
          applyMaskKeyJs(expected, KEY, phase, offset, offset + length);
          const actual = Buffer.from(base);
          simd!.mask(actual, offset, offset + length, littleEndianKey(KEY, phase), actual, offset);
          if (!actual.equals(expected)) assert.fail(`length ${length}, offset ${offset}, phase ${phase} differ`);
        }
      }
    }
  });

  test('random large buffers at random offsets and phases, through the public applyMaskKey and the kernel alone', () => {
    for (let round = 0; round < 40; round++) {
      const length = round < 4 ? [65536, 65537, 65535, 3 * 65536 + 5][round] : 300 + Math.floor(Math.random() * 3 * 1024 * 1024);
      const offset = Math.floor(Math.random() * 4096);
      const phase = Math.floor(Math.random() * 4);
      const key = randomBytes(4).readUInt32BE(0);
      const original = randomBytes(offset + length + 16);
      const expected = Buffer.from(original);
      applyMaskKeyJs(expected, key, phase, offset, offset + length);
      const viaPublic = Buffer.from(original);
      applyMaskKey(viaPublic, key, phase, offset, offset + length);
      const viaKernel = Buffer.from(original);
      simd!.mask(viaKernel, offset, offset + length, littleEndianKey(key, phase), viaKernel, offset);
      assert.ok(viaPublic.equals(expected), `applyMaskKey: length ${length}, offset ${offset}, phase ${phase}`);
      assert.ok(viaKernel.equals(expected), `kernel: length ${length}, offset ${offset}, phase ${phase}`);
    }
  });

  test('a payload unmasked in chunks of any size equals one unmasked whole, across the threshold', () => {
    const payload = randomBytes(5000);
    const whole = Buffer.from(payload);
    applyMaskKeyJs(whole, KEY, 0);
    for (const chunk of [1, 3, SIMD_MASK_MIN_BYTES - 1, SIMD_MASK_MIN_BYTES, SIMD_MASK_MIN_BYTES + 1, 1021, 4096]) {
      const pieces = Buffer.from(payload);
      for (let start = 0; start < pieces.length; start += chunk) {
        applyMaskKey(pieces, KEY, start, start, Math.min(start + chunk, pieces.length));
      }
      assert.ok(pieces.equals(whole), `chunks of ${chunk}`);
    }
  });

  test('copyMasked writes the masked payload into another buffer and leaves the source alone', () => {
    for (const length of [0, 1, 31, 32, SIMD_MASK_MIN_BYTES - 1, SIMD_MASK_MIN_BYTES, 4099, 65536 + 7, 200_000]) {
      const source = randomBytes(length);
      const original = Buffer.from(source);
      const expected = Buffer.alloc(length + 20, 0xee);
      source.copy(expected, 13);
      applyMaskKeyJs(expected, KEY, 0, 13, 13 + length);
      const target = Buffer.alloc(length + 20, 0xee);
      copyMasked(source, target, 13, KEY);
      assert.ok(target.equals(expected), `length ${length}`);
      assert.ok(source.equals(original), `source changed at length ${length}`);
    }
  });

  test('masking twice restores the payload (masking and unmasking are one operation)', () => {
    const payload = randomBytes(100_000);
    const copy = Buffer.from(payload);
    const key = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    applyMask(copy, key);
    assert.ok(!copy.equals(payload));
    applyMask(copy, key);
    assert.ok(copy.equals(payload));
  });
});

describe('without WebAssembly SIMD the JavaScript kernel takes over', () => {
  const realRuntime = (globalThis as unknown as { WebAssembly: WasmRuntime }).WebAssembly;

  test('a runtime whose validate() rejects the SIMD module gives no kernel', () => {
    assert.equal(realRuntime.validate(MASK_MODULE_BYTES), true);
    assert.equal(loadSimdMasker({ ...realRuntime, validate: () => false, Module: realRuntime.Module, Instance: realRuntime.Instance }), undefined);
  });

  test('a runtime that fails to compile the module gives no kernel instead of throwing', () => {
    const failing: WasmRuntime = {
      validate: () => true,
      Module: class { constructor() { throw new Error('CompileError: SIMD unsupported'); } },
      Instance: realRuntime.Instance,
    };
    assert.equal(loadSimdMasker(failing), undefined);
  });

  /** In a child: load mask.ts after `prelude`, mask a fixed 200 KiB payload, print the kernel and a digest. */
  async function maskInChild(prelude: string, env: NodeJS.ProcessEnv): Promise<{ kernel: string; digest: string }> {
    const script = `${prelude}
      const { applyMask, maskKernel } = await import(${JSON.stringify(new URL('../lib/websocket/mask.ts', import.meta.url).href)});
      const data = Buffer.alloc(200 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
      applyMask(data, Buffer.from([0x9a, 0x3c, 0xe1, 0x07]), 1, 3, data.length - 5);
      const { createHash } = await import('node:crypto');
      console.log(JSON.stringify({ kernel: maskKernel, digest: createHash('sha256').update(data).digest('hex') }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env } });
    return JSON.parse(stdout);
  }

  const expectedDigest = (() => {
    const data = patterned(200 * 1024);
    applyMaskKeyJs(data, KEY, 1, 3, data.length - 5);
    return createHash('sha256').update(data).digest('hex');
  })();

  test('HANDROLLED_MASK=js forces the JavaScript kernel, with the same bytes', async () => {
    const forced = await maskInChild('', { HANDROLLED_MASK: 'js' });
    assert.deepEqual(forced, { kernel: 'js', digest: expectedDigest });
    const normal = await maskInChild('', { HANDROLLED_MASK: '' });
    assert.deepEqual(normal, { kernel: 'wasm-simd', digest: expectedDigest });
  });

  test('a Node whose WebAssembly rejects SIMD modules falls back to JavaScript, with the same bytes', async () => {
    // (Deleting WebAssembly outright would break tsx itself, whose module lexer is WebAssembly.)
    const result = await maskInChild('WebAssembly.validate = () => false;', { HANDROLLED_MASK: '' });
    assert.deepEqual(result, { kernel: 'js', digest: expectedDigest });
  });
});
