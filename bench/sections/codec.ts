// Section "codec": in-process micro-benchmarks of the frame codec. Parse + unmask of a long stream of
// masked frames (fed in 64 KiB chunks, fresh copies each round since both unmask in place) with our
// WebSocketProtocol vs ws's Receiver; encoding with our encodeFrame vs ws's Sender.frame; raw ceilings.
// The contenders of each figure run in alternating rounds, so a busy machine slows them alike.

import { performance } from 'node:perf_hooks';
import { encodeFrame } from '../../lib/websocket/frame-encoder.ts';
import { applyMask, MaskKeySource } from '../../lib/websocket/mask.ts';
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
function parseContender(makeParser: () => Parser, payloadBytes: number, streamBytes: number): Contender & { frameBytes: number } {
  const frame = maskedFrame(Opcode.Binary, Buffer.alloc(payloadBytes, 0x61));
  const frameCount = Math.max(1, Math.floor(streamBytes / frame.length));
  const stream = repeated(frame, frameCount);
  const working = Buffer.allocUnsafe(stream.length);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < working.length; offset += CHUNK_BYTES) chunks.push(working.subarray(offset, offset + CHUNK_BYTES));
  const parse = makeParser();
  return {
    frameBytes: frame.length,
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

  // Ceilings: memcpy, and our JS unmask over the same size.
  const block = Buffer.alloc(64 * 1024, 0x61);
  const target = Buffer.alloc(64 * 1024);
  const key = Buffer.from([1, 2, 3, 4]);
  const [copyRate, maskRate] = race(budgetMs, [
    { work: () => { for (let index = 0; index < 256; index++) block.copy(target); return 256 * block.length; } },
    { work: () => { for (let index = 0; index < 256; index++) applyMask(block, key); return 256 * block.length; } },
  ]);
  log(`  ceilings: Buffer.copy ${(copyRate / 1e9).toFixed(2)} GB/s, applyMask ${(maskRate / 1e9).toFixed(2)} GB/s`);

  for (const payloadBytes of [16, 64 * 1024]) {
    const label = payloadBytes === 16 ? '16 B' : '64 KiB';
    const oursContender = parseContender(ourParser, payloadBytes, streamBytes);
    const peerContender = parseContender(peerParser, payloadBytes, streamBytes);
    // The unmask ceiling over the same bytes, in the same rounds: the XOR alone, no parsing.
    const maskBlock = Buffer.alloc(streamBytes, 0x61);
    const [ours, peer, mask] = race(budgetMs, [oursContender, peerContender, {
      work: () => { applyMask(maskBlock, key); return maskBlock.length / oursContender.frameBytes; },
    }]);
    const bytes = (rate: number) => `${((rate * oursContender.frameBytes) / 1e9).toFixed(2)} GB/s`;
    log(`  parse ${label}: ours ${Math.round(ours)} msg/s, ws ${Math.round(peer)} msg/s`);
    rows.push({
      section: 'codec', figure: `parse + unmask ${label} frames`, unit: 'msg/s', ours, peerName: 'ws Receiver', peer,
      target: { kind: 'at-least', value: payloadBytes === 16 ? 1.5 : 4 }, note: `ours ${bytes(ours)}, ws ${bytes(peer)} of wire bytes`,
    });
    if (payloadBytes > 16) {
      rows.push({
        section: 'codec', figure: `parse + unmask ${label} vs our unmask ceiling`, unit: 'GB/s', ours: (ours * oursContender.frameBytes) / 1e9,
        peerName: 'applyMask', peer: (mask * oursContender.frameBytes) / 1e9, target: { kind: 'at-least', value: 0.8 },
        note: 'applyMask alone over the same number of bytes, in the same rounds',
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
      rows.push({
        section: 'codec', figure: `encode ${label} ${masked ? 'masked (client)' : 'unmasked (server)'}`, unit: 'frames/s', ours,
        peerName: 'ws Sender.frame', peer, target: { kind: 'at-least', value: 1 },
        note: sharedHeader ? 'ours hands out a shared read-only header and the payload (no allocation; the write batcher copies them later, not counted here)' : undefined,
      });
    }
  }

  rows.push({
    section: 'codec', figure: 'ceiling: our applyMask vs Buffer.copy, 64 KiB', unit: 'GB/s', ours: maskRate / 1e9, peerName: 'Buffer.copy',
    peer: copyRate / 1e9, note: 'JS XOR vs native memcpy, reference only',
  });
  return rows;
}
