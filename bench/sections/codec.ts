// Section "codec": in-process micro-benchmarks of the frame codec. Parse + unmask of a long stream of
// masked frames (fed in 64 KiB chunks, fresh copies each round since both unmask in place) with our
// WebSocketProtocol vs ws's Receiver; encoding with our encodeFrame vs ws's Sender.frame; the masking
// kernels (WebAssembly SIMD vs our JS loop, the SIMD threshold, and the kernel on data already in
// WebAssembly memory) and raw ceilings. The contenders of each figure run in alternating rounds, so a
// busy machine slows them alike.

import { performance } from 'node:perf_hooks';
import { encodeFrame } from '../../lib/websocket/frame-encoder.ts';
import { applyMaskKey, applyMaskKeyJs, maskKernel, MaskKeySource, SIMD_MASK_MIN_BYTES } from '../../lib/websocket/mask.ts';
import { loadSimdMasker, MASK_MODULE_BYTES } from '../../lib/websocket/mask-simd.ts';
import { ProtocolEventKind, WebSocketProtocol } from '../../lib/websocket/protocol.ts';
import { byMode, type BenchOptions } from '../options.ts';
import { PeerReceiverClass, PeerSender } from '../peer-codec.ts';
import type { Row } from '../table.ts';
import { maskedFrame, Opcode, repeated } from '../wire.ts';

const CHUNK_BYTES = 64 * 1024;

/** One side of a comparison: `prepare` runs untimed before each round, `work` returns the units it did. */
interface Contender { prepare?: () => void; work: () => number }

/** Alternate rounds of every contender for about `budgetMs` each (after a warm-up); units per second of each. */
function race(budgetMs: number, contenders: Contender[]): number[] {
  for (const contender of contenders) for (let round = 0; round < 3; round++) { contender.prepare?.(); contender.work(); }
  const units = contenders.map(() => 0);
  const elapsed = contenders.map(() => 0);
  while (elapsed.some((time) => time < budgetMs)) {
    contenders.forEach((contender, index) => {
      // A fast contender stops at its budget rather than holding the slow ones to its number of rounds.
      if (elapsed[index] >= budgetMs) return;
      contender.prepare?.();
      const startedAt = performance.now();
      units[index] += contender.work();
      elapsed[index] += performance.now() - startedAt;
    });
  }
  return units.map((count, index) => (count / elapsed[index]) * 1000);
}

type Parser = (chunks: Buffer[]) => number;

function totalLength(buffers: readonly Buffer[]): number {
  let length = 0;
  for (const buffer of buffers) length += buffer.length;
  return length;
}

function ourParser(): Parser {
  let messages = 0;
  const protocol = new WebSocketProtocol({ write() {} }, { role: 'server', maxMessageBytes: 64 * 1024 * 1024 });
  return (chunks) => {
    messages = 0;
    for (const chunk of chunks) {
      protocol.receive(chunk);
      for (let event = protocol.nextEvent(); event !== undefined; event = protocol.nextEvent()) {
        if (event.kind === ProtocolEventKind.Message) messages++;
        else if (event.kind === ProtocolEventKind.Error) throw event.error;
      }
    }
    return messages;
  };
}

function peerParser(): Parser {
  let messages = 0;
  const receiver = new PeerReceiverClass({ isServer: true, maxPayload: 64 * 1024 * 1024 });
  receiver.on('message', () => { messages++; });
  receiver.on('error', (error) => { throw error; });
  return (chunks) => {
    messages = 0;
    for (const chunk of chunks) receiver.write(chunk);
    return messages;
  };
}

/** A parser fed fresh copies of the same stream of `payloadBytes` frames; counts messages per round. */
function parseContender(makeParser: () => Parser, payloadBytes: number, streamBytes: number): Contender & { frameBytes: number; stream: Buffer } {
  const frame = maskedFrame(Opcode.Binary, Buffer.alloc(payloadBytes, 0x61));
  const frameCount = Math.max(1, Math.floor(streamBytes / frame.length));
  const stream = repeated(frame, frameCount);
  const working = Buffer.allocUnsafe(stream.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < working.length; offset += CHUNK_BYTES) chunks.push(working.subarray(offset, offset + CHUNK_BYTES));
  const parse = makeParser();
  return {
    frameBytes: frame.length,
    stream,
    prepare: () => stream.copy(working),
    work: () => {
      const parsed = parse(chunks);
      if (parsed !== frameCount) throw new Error(`parser counted ${parsed} of ${frameCount} messages`);
      return parsed;
    },
  };
}

export async function runCodecSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const budgetMs = byMode(options, { full: 1500, quick: 300, tiny: 30 });
  const streamBytes = byMode(options, { full: 8, quick: 8, tiny: 0.5 }) * 1024 * 1024;
  const rows: Row[] = [];

  rows.push(...maskKernelRows(budgetMs, log));
  for (const payloadBytes of [16, 64 * 1024]) {
    const label = payloadBytes === 16 ? '16 B' : '64 KiB';
    const oursContender = parseContender(ourParser, payloadBytes, streamBytes);
    const peerContender = parseContender(peerParser, payloadBytes, streamBytes);
    // The unmask ceiling, in the same rounds: the same fresh copy of the stream, the same payload pieces
    // (a frame's payload split where the 64 KiB chunks split it) unmasked by applyMaskKey, no parsing.
    const ceiling = unmaskCeilingContender(oursContender.stream, oursContender.frameBytes, payloadBytes);
    const [ours, peer, mask] = race(budgetMs, [oursContender, peerContender, ceiling]);
    const bytes = (rate: number) => `${((rate * oursContender.frameBytes) / 1e9).toFixed(2)} GB/s`;
    log(`  parse ${label}: ours ${Math.round(ours)} msg/s, ws ${Math.round(peer)} msg/s`);
    rows.push({
      section: 'codec', figure: `parse + unmask ${label} frames`, unit: 'msg/s', ours, peerName: 'ws Receiver', peer,
      target: { kind: 'at-least', value: payloadBytes === 16 ? 1.5 : 4 }, note: `ours ${bytes(ours)}, ws ${bytes(peer)} of wire bytes`,
    });
    if (payloadBytes > 16) {
      rows.push({
        section: 'codec', figure: `parse + unmask ${label} vs our unmask ceiling`, unit: 'GB/s', ours: (ours * oursContender.frameBytes) / 1e9,
        peerName: 'unmask alone', peer: (mask * oursContender.frameBytes) / 1e9, target: { kind: 'at-least', value: 0.85 },
        note: 'the same payload pieces of the same fresh stream unmasked by applyMaskKey alone, in the same rounds; ' +
          'a frame split across two chunks is also copied into one message buffer (a fresh 64 KiB allocation, which page-faults: see docs/masking.md)',
      });
    }
  }

  for (const payloadBytes of [16, 64 * 1024]) {
    const label = payloadBytes === 16 ? '16 B' : '64 KiB';
    const payload = Buffer.alloc(payloadBytes, 0x61);
    const batch = options.mode === 'tiny' ? 100 : payloadBytes === 16 ? 10_000 : 1_000;
    for (const masked of [false, true]) {
      const maskKeys = masked ? new MaskKeySource() : undefined;
      const peerOptions = { fin: true, opcode: Opcode.Binary, mask: masked, readOnly: true, rsv1: false };
      // The frames' sizes are summed and checked, so the optimizer cannot drop the calls as dead code.
      let encodedBytes = 0;
      const [ours, peer] = race(budgetMs, [
        { work: () => { for (let index = 0; index < batch; index++) encodedBytes += totalLength(encodeFrame(Opcode.Binary, payload, true, maskKeys)); return batch; } },
        { work: () => { for (let index = 0; index < batch; index++) encodedBytes += totalLength(PeerSender.frame(payload, peerOptions)); return batch; } },
      ]);
      if (encodedBytes < payloadBytes) throw new Error('encoders produced no bytes');
      log(`  encode ${label} ${masked ? 'masked' : 'unmasked'}: ours ${Math.round(ours)} frames/s, ws ${Math.round(peer)} frames/s`);
      const sharedHeader = !masked && payloadBytes < 126;
      const largeMasked = masked && payloadBytes > 16;
      rows.push({
        section: 'codec', figure: `encode ${label} ${masked ? 'masked (client)' : 'unmasked (server)'}`, unit: 'frames/s', ours,
        peerName: 'ws Sender.frame', peer, target: { kind: 'at-least', value: largeMasked ? 10 : 1 },
        note: sharedHeader ? 'ours hands out a shared read-only header and the payload (no allocation; the write batcher copies them later, not counted here)'
          : largeMasked ? `ours copies the payload through the ${maskKernel} kernel straight into the frame; ws (without its bufferutil add-on) masks byte by byte in JS`
          : !masked && payloadBytes > 16 ? 'both hand out a header and the payload itself (no copy): this measures one small allocation each' : undefined,
      });
    }
  }

  return rows;
}

/** A contender that unmasks the payload pieces of a fresh copy of `stream` the way the parser meets them. */
function unmaskCeilingContender(stream: Buffer, frameBytes: number, payloadBytes: number): Contender {
  const working = Buffer.allocUnsafe(stream.length);
  const pieces: Buffer[] = [];
  const headerBytes = frameBytes - payloadBytes;
  for (let frameStart = 0; frameStart + frameBytes <= stream.length; frameStart += frameBytes) {
    let from = frameStart + headerBytes;
    const end = frameStart + frameBytes;
    while (from < end) {
      const chunkEnd = (Math.floor(from / CHUNK_BYTES) + 1) * CHUNK_BYTES;
      const to = Math.min(end, chunkEnd);
      pieces.push(working.subarray(from, to));
      from = to;
    }
  }
  const frameCount = Math.floor(stream.length / frameBytes);
  return {
    prepare: () => stream.copy(working),
    work: () => {
      for (const piece of pieces) applyMaskKey(piece, 0x12345678);
      return frameCount;
    },
  };
}

/**
 * The masking kernels over one 64 KiB payload: WebAssembly SIMD (through mask.ts, copies included) vs our
 * JS loop, vs the SIMD kernel on bytes already in its memory (the most that receiving straight into
 * WebAssembly memory could gain), vs memcpy; and a sweep of small sizes that shows where SIMD starts to pay.
 */
function maskKernelRows(budgetMs: number, log: (line: string) => void): Row[] {
  const size = 64 * 1024;
  const key = 0x01020304;
  // Source and target half a page apart: memcpy is 10–20× slower when the destination is 1–31 bytes past
  // the source modulo 4096 (two fresh 64 KiB buffers often are), which would make this ceiling a trap.
  const arena = Buffer.alloc(3 * size);
  const block = arena.subarray(0, size).fill(0x61);
  const copyTarget = arena.subarray(size + 2048, 2 * size + 2048);
  const kernel = residentKernel();
  const rounds = 64;
  const [simd, js, resident, copy] = race(budgetMs, [
    { work: () => { for (let index = 0; index < rounds; index++) applyMaskKey(block, key); return rounds * size; } },
    { work: () => { for (let index = 0; index < rounds; index++) applyMaskKeyJs(block, key); return rounds * size; } },
    { work: () => { for (let index = 0; index < rounds; index++) kernel(size); return rounds * size; } },
    { work: () => { for (let index = 0; index < rounds; index++) block.copy(copyTarget); return rounds * size; } },
  ]);
  const gb = (rate: number) => `${(rate / 1e9).toFixed(2)} GB/s`;
  log(`  mask 64 KiB: ${maskKernel} ${gb(simd)}, JS ${gb(js)}, SIMD kernel in its own memory ${gb(resident)}, Buffer.copy ${gb(copy)}`);

  // Where SIMD starts to pay: the copies in and out cost a fixed ~200 ns per call.
  const sweep: string[] = [];
  const masker = loadSimdMasker();
  for (const bytes of masker === undefined ? [] : [128, 256, 384, 512, 1024, 4096]) {
    const piece = arena.subarray(8, 8 + bytes);
    const calls = 2000;
    const [viaSimd, viaJs] = race(budgetMs / 8, [
      { work: () => { for (let index = 0; index < calls; index++) masker!.mask(piece, 0, bytes, key, piece, 0); return calls; } },
      { work: () => { for (let index = 0; index < calls; index++) applyMaskKeyJs(piece, key); return calls; } },
    ]);
    sweep.push(`${bytes} B ${(viaSimd / viaJs).toFixed(2)}×`);
  }
  log(`  SIMD / JS by payload size (threshold ${SIMD_MASK_MIN_BYTES} B): ${sweep.join(', ')}`);

  return [
    {
      section: 'codec', figure: 'unmask 64 KiB: WebAssembly SIMD vs our JS loop', unit: 'GB/s', ours: simd / 1e9, peerName: 'JS 32-bit loop', peer: js / 1e9,
      target: { kind: 'at-least', value: 3 },
      note: `kernel in use: ${maskKernel}; copies into and out of WebAssembly memory included. SIMD / JS by size: ${sweep.join(', ')}`,
    },
    {
      section: 'codec', figure: 'unmask 64 KiB: SIMD with its copies vs SIMD on bytes already in WebAssembly memory', unit: 'GB/s', ours: simd / 1e9,
      peerName: 'kernel alone', peer: resident / 1e9,
      note: 'the gap is what receiving payloads straight into WebAssembly memory could win at most (docs/masking.md: why we do not)',
    },
    {
      section: 'codec', figure: 'ceiling: our unmask vs Buffer.copy, 64 KiB', unit: 'GB/s', ours: simd / 1e9, peerName: 'Buffer.copy', peer: copy / 1e9,
      note: 'XOR vs native memcpy, reference only',
    },
  ];
}

/** The SIMD kernel instantiated on its own, XORing a payload that already sits in its memory (no copies). */
function residentKernel(): (bytes: number) => void {
  const wasm = (globalThis as unknown as { WebAssembly: { Instance: new (module: object) => { exports: Record<string, unknown> }; Module: new (bytes: Uint8Array) => object } }).WebAssembly;
  const instance = new wasm.Instance(new wasm.Module(MASK_MODULE_BYTES));
  const mask = instance.exports.mask as (start: number, end: number, key: number) => void;
  return (bytes) => mask(0, bytes, 0x04030201);
}
