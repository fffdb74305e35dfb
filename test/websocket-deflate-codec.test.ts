// The permessage-deflate codec on its own (RFC 7692 §7.2): round trips for every context-takeover and
// window combination, compatibility with ws's implementation, the zip bomb stopped at the limit with its
// heap peak measured, a seeded fuzz of the inflate path, order, laziness, release mid-operation, and a
// negotiated session end to end.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { CloseCode } from '../lib/websocket/close-codes.ts';
import { WebSocketError } from '../lib/websocket/errors.ts';
import { MessageDeflater, SYNC_DEFLATE_MAX_BYTES, type DeflaterSettings } from '../lib/websocket/permessage-deflate/deflater.ts';
import { MessageInflater, SYNC_INFLATE_MAX_BYTES, SYNC_OUTPUT_BYTES, type InflateResult } from '../lib/websocket/permessage-deflate/inflater.ts';
import { ZlibLimiter } from '../lib/websocket/permessage-deflate/zlib-limiter.ts';
import { parseExtensions } from '../lib/websocket/extensions.ts';
import { acceptOffer, buildOffer, checkResponse } from '../lib/websocket/permessage-deflate/negotiation.ts';
import { resolvePerMessageDeflate } from '../lib/websocket/permessage-deflate/options.ts';
import { PerMessageDeflateSession } from '../lib/websocket/permessage-deflate/session.ts';
import { seededRandom } from './http-test-helpers.ts';
import { WsPerMessageDeflate } from './helpers/ws-internals.ts';

const MiB = 1024 * 1024;

function deflaterSettings(windowBits: number, noContextTakeover: boolean): DeflaterSettings {
  return { windowBits, noContextTakeover, level: 6, memLevel: 8 };
}

/** An inflater that keeps what it outputs, message by message. */
function collectingInflater(windowBits: number, noContextTakeover: boolean, maxMessageBytes = 64 * MiB, limiter?: ZlibLimiter) {
  const chunks: Buffer[] = [];
  const inflater = new MessageInflater({ windowBits, noContextTakeover, maxMessageBytes }, (chunk) => chunks.push(chunk), limiter);
  return {
    inflater,
    /** Feed one compressed message in `pieces` pieces and return what came out. */
    async message(payload: Buffer, pieces = 1): Promise<{ result: InflateResult; data: Buffer }> {
      const step = Math.max(1, Math.ceil(payload.length / pieces));
      for (let offset = 0; offset < payload.length; offset += step) inflater.write(payload.subarray(offset, offset + step));
      const result = await inflater.end();
      const data = Buffer.concat(chunks);
      chunks.length = 0;
      return { result, data };
    },
  };
}

function jsonMessage(index: number): Buffer {
  return Buffer.from(JSON.stringify({ type: 'chat', room: 'general', user: `user${index % 17}`, seq: index, text: `message number ${index} `.repeat(1 + (index % 30)) }));
}

/** Data with back-references 256–511 bytes away: wrong for a decoder whose window is too small. */
function farRepeats(length: number, random: () => number): Buffer {
  const data = Buffer.alloc(length);
  for (let index = 0; index < length; index++) {
    data[index] = index >= 400 && random() < 0.9 ? data[index - 300 - (index % 200)] : Math.floor(random() * 256);
  }
  return data;
}

function wsCall(method: 'compress' | 'decompress', ws: InstanceType<typeof WsPerMessageDeflate>, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => ws[method](data, true, (error, result) => (error ? reject(error) : resolve(result!))));
}

function wsPeer(isServer: boolean, windowBits: number, noContextTakeover: boolean) {
  const ws = new WsPerMessageDeflate({ isServer, maxPayload: 0 });
  ws.accept([
    {
      server_max_window_bits: [String(windowBits)],
      client_max_window_bits: [String(windowBits)],
      ...(noContextTakeover ? { server_no_context_takeover: [true], client_no_context_takeover: [true] } : {}),
    },
  ]);
  return ws;
}

const WINDOWS = [8, 9, 10, 11, 12, 13, 14, 15];

describe('round trips (RFC 7692 §7.2.1, §7.2.2)', () => {
  for (const noContextTakeover of [false, true]) {
    for (const windowBits of WINDOWS) {
      test(`window ${windowBits}, ${noContextTakeover ? 'no context takeover' : 'context takeover'}: text, binary, empty and 1 MiB, split in pieces`, async () => {
        const random = seededRandom(windowBits * 2 + Number(noContextTakeover));
        const deflater = new MessageDeflater(deflaterSettings(windowBits, noContextTakeover));
        const receiver = collectingInflater(windowBits, noContextTakeover);
        const messages = [jsonMessage(1), jsonMessage(1), Buffer.alloc(0), Buffer.alloc(0), farRepeats(70_000, random), randomBytes(1000), jsonMessage(2), Buffer.alloc(MiB, 'a')];
        const compressed = await Promise.all(messages.map((message) => deflater.deflate(message)));
        for (const [index, outcome] of compressed.entries()) {
          assert.ok(outcome.ok);
          const { result, data } = await receiver.message(outcome.payload, 1 + (index % 4));
          assert.deepEqual(result, { ok: true, byteLength: messages[index].length });
          assert.ok(data.equals(messages[index]), `message ${index}`);
        }
        const [first, second] = compressed.map((outcome) => (outcome.ok ? outcome.payload.length : 0));
        // The same message again: with context takeover it is a short back-reference; without, the same size.
        if (noContextTakeover) assert.equal(second, first);
        else assert.ok(second < first / 3, `${second} vs ${first}`);
        assert.equal(deflater.holdsZlib, !noContextTakeover);
        assert.equal(receiver.inflater.holdsZlib, !noContextTakeover);
        deflater.release();
        receiver.inflater.release();
      });
    }
  }

  test('an agreed window of 8 is honoured: what we compress inflates with a strict 256-byte window', async () => {
    const data = farRepeats(200_000, seededRandom(8));
    assert.throws(() => zlib.inflateRawSync(zlib.deflateRawSync(data, { windowBits: 15 }), { windowBits: 8 }), /distance too far back/);
    const deflater = new MessageDeflater(deflaterSettings(8, true));
    const outcome = await deflater.deflate(data);
    assert.ok(outcome.ok);
    const tail = Buffer.from([0, 0, 0xff, 0xff]);
    assert.ok(zlib.inflateRawSync(Buffer.concat([outcome.payload, tail]), { windowBits: 8, finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(data));
    deflater.release();
    // With context takeover too, through our own inflater set to a strict 8-bit window.
    const taking = new MessageDeflater(deflaterSettings(8, false));
    const receiver = collectingInflater(8, false);
    for (let round = 0; round < 3; round++) {
      const next = await taking.deflate(data);
      assert.ok(next.ok);
      const { result, data: inflated } = await receiver.message(next.payload, 2);
      assert.ok(result.ok && inflated.equals(data), `round ${round}`);
    }
    taking.release();
    receiver.inflater.release();
  });

  test('an empty compressed payload is an empty message, idle or queued, and the stream stays in step', async () => {
    const deflater = new MessageDeflater(deflaterSettings(15, false));
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk));
    assert.deepEqual(await inflater.end(), { ok: true, byteLength: 0 });
    const first = await deflater.deflate(jsonMessage(1));
    const second = await deflater.deflate(jsonMessage(2));
    assert.ok(first.ok && second.ok);
    inflater.write(first.payload);
    const ends = [inflater.end(), inflater.end(), inflater.end()];
    inflater.write(second.payload);
    ends.push(inflater.end());
    const results = await Promise.all(ends);
    assert.deepEqual(results.map((result) => (result.ok ? result.byteLength : -1)), [jsonMessage(1).length, 0, 0, jsonMessage(2).length]);
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat([jsonMessage(1), jsonMessage(2)])));
    deflater.release();
    inflater.release();
  });

  test('a message ending in a final block (BFINAL=1) is read, and later messages still are', async () => {
    const receiver = collectingInflater(15, false);
    for (const text of ['one', 'two', 'three']) {
      const { result, data } = await receiver.message(zlib.deflateRawSync(Buffer.from(text)));
      assert.deepEqual(result, { ok: true, byteLength: text.length });
      assert.equal(data.toString(), text);
    }
    receiver.inflater.release();
  });
});

describe('messages inflated and compressed on the spot (zlib-sync.ts), in step with the threadpool path', () => {
  /** A message of `length` bytes of JSON-like text (compressible, with repeats across messages). */
  const textOf = (index: number, length: number): Buffer => {
    const text = Buffer.alloc(length);
    const source = jsonMessage(index);
    for (let offset = 0; offset < length; offset += source.length) source.copy(text, offset);
    return text;
  };

  for (const windowBits of [9, 12, 15]) {
    for (const noContextTakeover of [false, true]) {
      test(`window ${windowBits}, ${noContextTakeover ? 'no ' : ''}context takeover: small messages sync, large async, one window; ws reads them`, async () => {
        const deflater = new MessageDeflater(deflaterSettings(windowBits, noContextTakeover));
        const receiver = collectingInflater(windowBits, noContextTakeover);
        const chunks: Buffer[] = [];
        const syncInflater = new MessageInflater({ windowBits, noContextTakeover, maxMessageBytes: 64 * MiB }, (chunk) => chunks.push(chunk));
        const ws = wsPeer(false, windowBits, noContextTakeover);
        const sizes = [300, 1024, 40_000, 0, 700, 16 * 1024, 100_000, 1024, 3 * MiB, 1024, 1024];
        for (const [index, size] of sizes.entries()) {
          const message = textOf(index, size);
          const now = deflater.deflateNow(message);
          assert.equal(now === undefined, size > SYNC_DEFLATE_MAX_BYTES, `message ${index} (${size} B): compressed ${now === undefined ? 'asynchronously' : 'on the spot'}`);
          const compressed = now ?? (await deflater.deflate(message));
          assert.ok(compressed.ok);
          // Our inflater: on the spot when the payload is small and its output under the budget, else
          // (or from there on) through the threadpool.
          const inflated = syncInflater.inflateMessage(compressed.payload);
          assert.equal(inflated instanceof Promise, compressed.payload.length > SYNC_INFLATE_MAX_BYTES || size >= SYNC_OUTPUT_BYTES, `message ${index} (${size} B, ${compressed.payload.length} B compressed)`);
          assert.deepEqual(await inflated, { ok: true, byteLength: size });
          assert.ok(Buffer.concat(chunks).equals(message), `message ${index} inflated on our mixed path`);
          chunks.length = 0;
          // The asynchronous inflater alone, and ws, read the same payloads in the same order.
          assert.ok((await receiver.message(compressed.payload, 3)).data.equals(message));
          assert.ok((await wsCall('decompress', ws, compressed.payload)).equals(message), `ws inflates message ${index}`);
        }
        assert.equal(syncInflater.holdsZlib, !noContextTakeover);
        receiver.inflater.release();
        syncInflater.release();
        deflater.release();
      });
    }
  }

  test('a message waits its turn: nothing is compressed or inflated on the spot while earlier work is queued', async () => {
    const deflater = new MessageDeflater(deflaterSettings(15, false));
    const first = deflater.deflate(Buffer.alloc(100, 0x61));
    assert.equal(deflater.deflateNow(Buffer.from('second')), undefined);
    assert.ok((await first).ok);
    assert.notEqual(deflater.deflateNow(Buffer.from('third')), undefined);
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk));
    const one = zlib.deflateRawSync(Buffer.from('one'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    inflater.write(one.subarray(0, one.length - 4)); // a message through the stream, still in zlib's hands
    const firstDone = inflater.end();
    const queued = inflater.inflateMessage(zlib.deflateRawSync(Buffer.from('two'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4));
    assert.ok(queued instanceof Promise, 'the next message waits behind it');
    assert.deepEqual(await firstDone, { ok: true, byteLength: 3 });
    assert.deepEqual(await queued, { ok: true, byteLength: 3 });
    assert.equal(Buffer.concat(chunks).toString(), 'onetwo');
    inflater.release();
    deflater.release();
  });

  test('on the spot too: corrupt data 1007, a bomb stopped at the limit with 1009, final blocks then more messages', () => {
    const corrupt = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, () => {});
    const refused = corrupt.inflateMessage(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]));
    assert.ok(!(refused instanceof Promise) && !refused.ok);
    assert.equal(refused.error.code, 'INVALID_COMPRESSED_DATA');
    assert.equal(refused.error.closeCode, CloseCode.InvalidPayload);
    assert.equal(corrupt.holdsZlib, false);

    // 1.5 KiB of compressed zeros inflate to 1.5 MiB: stopped at a 64 KiB limit before the budget ends.
    const bomb = zlib.deflateRawSync(Buffer.alloc(1.5 * MiB), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    let delivered = 0;
    const bounded = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: 64 * 1024 }, (chunk) => {
      delivered += chunk.length;
    });
    const tooBig = bounded.inflateMessage(bomb.subarray(0, bomb.length - 4));
    assert.ok(!(tooBig instanceof Promise) && !tooBig.ok);
    assert.equal(tooBig.error.closeCode, CloseCode.MessageTooBig);
    assert.ok(delivered <= 64 * 1024, `delivered ${delivered}`);

    const chunks: Buffer[] = [];
    const finalBlocks = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk));
    for (const text of ['one', 'two', 'three']) {
      assert.deepEqual(finalBlocks.inflateMessage(zlib.deflateRawSync(Buffer.from(text))), { ok: true, byteLength: text.length });
      assert.equal(Buffer.concat(chunks.splice(0)).toString(), text);
    }
    finalBlocks.release();
  });

  test('a message past the synchronous budget goes on through the threadpool from where it stopped: whole, in order, bounded', async () => {
    const deflate = zlib.createDeflateRaw({ level: 9 });
    const compress = async (data: Buffer): Promise<Buffer> => {
      const out: Buffer[] = [];
      const onData = (chunk: Buffer) => out.push(chunk);
      deflate.on('data', onData);
      deflate.write(data);
      await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
      deflate.off('data', onData);
      const flushed = Buffer.concat(out);
      return flushed.subarray(0, flushed.length - 4);
    };
    const big = Buffer.alloc(5 * MiB, 0x61);
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: 16 * MiB }, (chunk) => chunks.push(chunk));
    const bigPayload = await compress(big);
    assert.ok(bigPayload.length <= SYNC_INFLATE_MAX_BYTES, `${bigPayload.length} bytes compressed`);
    const first = inflater.inflateMessage(bigPayload);
    assert.ok(first instanceof Promise, 'past the budget: the rest through the threadpool');
    const behind = inflater.inflateMessage(await compress(Buffer.from('and then a small one')));
    assert.ok(behind instanceof Promise, 'a message behind it waits its turn');
    assert.deepEqual(await first, { ok: true, byteLength: big.length });
    assert.ok(Buffer.concat(chunks.splice(0)).equals(big));
    assert.deepEqual(await behind, { ok: true, byteLength: 20 });
    assert.equal(Buffer.concat(chunks.splice(0)).toString(), 'and then a small one');
    // The window carried through both paths: a message that only refers back to them reads right.
    assert.deepEqual(inflater.inflateMessage(await compress(Buffer.alloc(1000, 0x61))), { ok: true, byteLength: 1000 });
    // And a bomb past the budget is still stopped at the limit.
    const limited = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: 2 * MiB }, () => {});
    const bombResult = await limited.inflateMessage(zlib.deflateRawSync(Buffer.alloc(8 * MiB), { level: 9 }));
    assert.ok(!bombResult.ok && bombResult.error.closeCode === CloseCode.MessageTooBig);
    inflater.release();
    deflate.close();
  });

  test('fuzz (seeded): random, truncated and corrupted small streams — never a throw, never past the limit, the same answer as the asynchronous path', async () => {
    const random = seededRandom(1952);
    const LIMIT = 64 * 1024;
    const sources = Array.from({ length: 20 }, (_, index) => zlib.deflateRawSync(index % 2 === 0 ? jsonMessage(index) : farRepeats(3000, random), { level: 1 + (index % 9) }));
    for (let round = 0; round < 600; round++) {
      const source = sources[Math.floor(random() * sources.length)]!;
      let input: Buffer;
      if (round % 3 === 0) input = Buffer.from(Array.from({ length: Math.floor(random() * SYNC_INFLATE_MAX_BYTES) }, () => Math.floor(random() * 256)));
      else if (round % 3 === 1) input = source.subarray(0, Math.floor(random() * source.length));
      else {
        input = Buffer.from(source);
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) input[Math.floor(random() * input.length)] ^= 1 << Math.floor(random() * 8);
      }
      input = input.subarray(0, SYNC_INFLATE_MAX_BYTES);
      const windowBits = 8 + Math.floor(random() * 8);
      const noContextTakeover = random() < 0.5;
      const chunks: Buffer[] = [];
      const inflater = new MessageInflater({ windowBits, noContextTakeover, maxMessageBytes: LIMIT }, (chunk) => chunks.push(chunk));
      const result = await inflater.inflateMessage(input);
      const data = Buffer.concat(chunks);
      assert.ok(data.length <= LIMIT, `round ${round}: ${data.length} bytes delivered`);
      // The asynchronous path as the adapter drives it: the whole payload given with end(), joined to its tail.
      const referenceChunks: Buffer[] = [];
      const referenceInflater = new MessageInflater({ windowBits, noContextTakeover, maxMessageBytes: LIMIT }, (chunk) => referenceChunks.push(chunk));
      const reference = { result: await referenceInflater.end(input), data: Buffer.concat(referenceChunks) };
      referenceInflater.release();
      assert.equal(result!.ok, reference.result.ok, `round ${round}: same verdict as the asynchronous path`);
      if (result!.ok) assert.ok(data.equals(reference.data), `round ${round}: same bytes`);
      else if (!reference.result.ok) assert.equal(result!.error.code, reference.result.error.code);
      await inflater.inflateMessage(zlib.deflateRawSync(Buffer.from('after'))); // whatever state the first left: an answer, no throw
      inflater.release();
    }
  });
});

describe('compatibility with ws (websockets/ws lib/permessage-deflate.js)', () => {
  for (const noContextTakeover of [false, true]) {
    for (const windowBits of WINDOWS) {
      test(`window ${windowBits}, ${noContextTakeover ? 'no ' : ''}context takeover: ws reads ours, we read ws's`, async () => {
        const deflater = new MessageDeflater(deflaterSettings(windowBits, noContextTakeover));
        const receiver = collectingInflater(windowBits, noContextTakeover);
        const wsServer = wsPeer(true, windowBits, noContextTakeover);
        const wsClient = wsPeer(false, windowBits, noContextTakeover);
        const random = seededRandom(100 + windowBits);
        const messages = [jsonMessage(3), jsonMessage(3), farRepeats(50_000, random), Buffer.alloc(0), jsonMessage(4), randomBytes(3000)];
        for (const message of messages) {
          const ours = await deflater.deflate(message);
          assert.ok(ours.ok);
          assert.ok((await wsCall('decompress', wsClient, ours.payload)).equals(message), 'ws inflating ours');
          const theirs = await wsCall('compress', wsServer, message);
          const { result, data } = await receiver.message(theirs, 3);
          assert.ok(result.ok);
          assert.ok(data.equals(message), 'we inflating ws');
        }
        for (const peer of [wsServer, wsClient]) peer.cleanup();
        deflater.release();
        receiver.inflater.release();
      });
    }
  }
});

/** A raw deflate stream (sync-flushed, tail stripped) that inflates to `size` zero bytes, built without holding them. */
async function zipBomb(size: number): Promise<Buffer> {
  const block = Buffer.alloc(MiB);
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const flushOnce = (data: Buffer) =>
    new Promise<Buffer>((resolve) => {
      const out: Buffer[] = [];
      const onData = (chunk: Buffer) => out.push(chunk);
      deflate.on('data', onData);
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', onData);
        resolve(Buffer.concat(out));
      });
    });
  const head = await flushOnce(block);
  const body = await flushOnce(block);
  // Once the window holds only zeros, every further mebibyte compresses to the very same bytes.
  assert.ok((await flushOnce(block)).equals(body));
  deflate.close();
  const parts = [head];
  for (let done = 2 * MiB; done <= size; done += MiB) parts.push(body);
  const stream = Buffer.concat(parts);
  return stream.subarray(0, stream.length - 4);
}

describe('bounds (the decompressed size counts as it is produced)', () => {
  test('a zip bomb of 1 GiB is stopped at the limit with 1009, the heap peak under 4× the limit', async (t) => {
    const limit = 16 * MiB;
    const bomb = await zipBomb(1024 * MiB);
    assert.ok(bomb.length < 2 * MiB, `bomb is ${bomb.length} bytes`);
    const kept: Buffer[] = []; // held like a message assembler would
    let delivered = 0;
    const memory = () => {
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    const baseline = memory();
    let peak = baseline;
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: limit }, (chunk) => {
      kept.push(chunk);
      delivered += chunk.length;
      peak = Math.max(peak, memory());
    });
    for (let offset = 0; offset < bomb.length; offset += 16 * 1024) inflater.write(bomb.subarray(offset, offset + 16 * 1024));
    const result = await inflater.end();
    peak = Math.max(peak, memory());
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, 'MESSAGE_TOO_BIG');
      assert.equal(result.error.closeCode, CloseCode.MessageTooBig);
    }
    assert.ok(delivered <= limit, `delivered ${delivered}`);
    assert.equal(inflater.holdsZlib, false);
    assert.equal(inflater.pendingBytes, 0);
    const growth = peak - baseline;
    t.diagnostic(`bomb ${bomb.length} bytes → 1 GiB; stopped after ${delivered} bytes; heap+arrayBuffers peak +${(growth / MiB).toFixed(1)} MiB (limit ${limit / MiB} MiB)`);
    assert.ok(growth < 4 * limit, `heap grew by ${(growth / MiB).toFixed(1)} MiB for a ${limit / MiB} MiB limit`);
    // Exactly at the limit still passes.
    const exact = collectingInflater(15, false, MiB);
    const exactly = await new MessageDeflater(deflaterSettings(15, true)).deflate(Buffer.alloc(MiB));
    assert.ok(exactly.ok);
    assert.deepEqual((await exact.message(exactly.payload)).result, { ok: true, byteLength: MiB });
    const over = collectingInflater(15, false, MiB - 1);
    const tooBig = await over.message(exactly.payload);
    assert.equal(tooBig.result.ok, false);
    exact.inflater.release();
  });

  test('corrupt data fails with 1007 and a clear message; the inflater then refuses everything', async () => {
    const receiver = collectingInflater(15, false);
    const { result } = await receiver.message(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]));
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, 'INVALID_COMPRESSED_DATA');
      assert.equal(result.error.closeCode, CloseCode.InvalidPayload);
      assert.match(result.error.message, /does not inflate/);
    }
    receiver.inflater.write(Buffer.from('more'));
    assert.deepEqual(await receiver.inflater.end(), result);
    assert.equal(receiver.inflater.holdsZlib, false);
  });

  test('a WebSocketError thrown by the consumer (bad UTF-8, say) fails the message at once', async () => {
    let calls = 0;
    const refusal = new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'not UTF-8');
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: 64 * MiB }, () => {
      calls++;
      throw refusal;
    });
    const bomb = await zipBomb(64 * MiB);
    inflater.write(bomb);
    assert.deepEqual(await inflater.end(), { ok: false, error: refusal });
    assert.equal(calls, 1);
  });
});

describe('fuzz of the inflate path (seeded)', () => {
  const LIMIT = 64 * 1024;
  const allowed = new Set(['INVALID_COMPRESSED_DATA', 'MESSAGE_TOO_BIG']);

  test('random bytes, truncated and corrupted real streams: never a throw, never past the limit', async () => {
    const random = seededRandom(7692);
    const samples: Buffer[] = [];
    for (let index = 0; index < 40; index++) {
      const plain = index % 2 === 0 ? jsonMessage(index) : farRepeats(1000 + Math.floor(random() * 100_000), random);
      samples.push(zlib.deflateRawSync(plain, { level: 1 + (index % 9) }));
    }
    samples.push((await zipBomb(4 * MiB)).subarray(0, 6000));
    for (let round = 0; round < 600; round++) {
      const source = samples[Math.floor(random() * samples.length)];
      let input: Buffer;
      const kind = round % 3;
      if (kind === 0) {
        input = Buffer.alloc(Math.floor(random() * 2000));
        for (let index = 0; index < input.length; index++) input[index] = Math.floor(random() * 256);
      } else if (kind === 1) {
        input = source.subarray(0, Math.floor(random() * source.length));
      } else {
        input = Buffer.from(source);
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) input[Math.floor(random() * input.length)] ^= 1 << Math.floor(random() * 8);
      }
      const noContextTakeover = random() < 0.5;
      const receiver = collectingInflater(8 + Math.floor(random() * 8), noContextTakeover, LIMIT);
      const { result, data } = await receiver.message(input, 1 + Math.floor(random() * 5));
      assert.ok(data.length <= LIMIT, `round ${round}: ${data.length} bytes delivered`);
      if (!result.ok) assert.ok(allowed.has(result.error.code), `round ${round}: ${result.error.code}`);
      else assert.equal(result.byteLength, data.length);
      // A second message on the same inflater: answered, whatever state the first left.
      const second = await receiver.message(zlib.deflateRawSync(Buffer.from('after')), 2);
      if (result.ok && second.result.ok) assert.ok(second.data.length <= LIMIT);
      receiver.inflater.release();
    }
  });
});

describe('order, laziness and release', () => {
  test('compressions and decompressions complete in call order, messages queued back to back', async () => {
    const limiter = new ZlibLimiter(2);
    const deflater = new MessageDeflater(deflaterSettings(15, false), limiter);
    const messages = Array.from({ length: 50 }, (_, index) => (index % 5 === 0 ? randomBytes(40_000) : jsonMessage(index)));
    const order: number[] = [];
    const outcomes = await Promise.all(messages.map((message, index) => deflater.deflate(message).then((outcome) => (order.push(index), outcome))));
    assert.deepEqual(order, messages.map((_, index) => index));
    const receiver = collectingInflater(15, false, 64 * MiB, limiter);
    const received: Buffer[] = [];
    const ends: Promise<InflateResult>[] = [];
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk), limiter);
    for (const outcome of outcomes) {
      assert.ok(outcome.ok);
      inflater.write(outcome.payload.subarray(0, 3));
      inflater.write(outcome.payload.subarray(3));
      ends.push(inflater.end().then((result) => (received.push(Buffer.concat(chunks.splice(0))), result)));
    }
    assert.ok(inflater.pendingBytes > 0, 'written but not yet inflated: the backpressure signal');
    for (const result of await Promise.all(ends)) assert.ok(result.ok);
    assert.equal(received.length, messages.length);
    received.forEach((data, index) => assert.ok(data.equals(messages[index]), `message ${index}`));
    assert.equal(limiter.active, 0);
    for (const codec of [deflater, receiver.inflater, inflater]) codec.release();
  });

  test('a message whose last piece comes with end() is inflated in one zlib job, the tail joined to it', async () => {
    class CountingLimiter extends ZlibLimiter {
      jobs = 0;
      override run(job: Parameters<ZlibLimiter['run']>[0]): void {
        this.jobs++;
        super.run(job);
      }
    }
    const limiter = new CountingLimiter(4);
    const deflater = new MessageDeflater(deflaterSettings(15, false));
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk), limiter);
    for (let index = 0; index < 20; index++) {
      const message = jsonMessage(index);
      const outcome = await deflater.deflate(message);
      assert.ok(outcome.ok);
      const jobsBefore = limiter.jobs;
      const result = await inflater.end(outcome.payload);
      assert.deepEqual(result, { ok: true, byteLength: message.length });
      assert.ok(Buffer.concat(chunks.splice(0)).equals(message), `message ${index}`);
      assert.equal(limiter.jobs - jobsBefore, 1, `message ${index}: one trip to zlib`);
    }
    assert.deepEqual(await inflater.end(Buffer.alloc(0)), { ok: true, byteLength: 0 }, 'an empty last piece is an empty message');
    deflater.release();
    inflater.release();
  });

  test('a 64 KiB message comes out of zlib in one piece (one output chunk, not four: fewer threadpool trips)', async () => {
    const deflater = new MessageDeflater(deflaterSettings(15, false));
    const chunks: Buffer[] = [];
    const inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: MiB }, (chunk) => chunks.push(chunk));
    const message = Buffer.concat(Array.from({ length: 400 }, (_, index) => jsonMessage(index))).subarray(0, 64 * 1024);
    const outcome = await deflater.deflate(message);
    assert.ok(outcome.ok);
    assert.deepEqual(await inflater.end(outcome.payload), { ok: true, byteLength: message.length });
    assert.equal(chunks.length, 1);
    assert.ok(chunks[0].equals(message));
    deflater.release();
    inflater.release();
  });

  test('nothing holds zlib before the first message, nor after one without context takeover', async () => {
    const deflater = new MessageDeflater(deflaterSettings(15, true));
    const receiver = collectingInflater(15, true);
    assert.equal(deflater.holdsZlib, false);
    assert.equal(receiver.inflater.holdsZlib, false);
    const outcome = await deflater.deflate(jsonMessage(1));
    assert.ok(outcome.ok);
    assert.ok((await receiver.message(outcome.payload)).result.ok);
    assert.equal(deflater.holdsZlib, false);
    assert.equal(receiver.inflater.holdsZlib, false);
  });

  test('release mid-inflate: the pending end resolves COMPRESSION_RELEASED, zlib and the limiter slot are freed', async () => {
    const limiter = new ZlibLimiter(1);
    let inflater!: MessageInflater;
    let calls = 0;
    inflater = new MessageInflater({ windowBits: 15, noContextTakeover: false, maxMessageBytes: 1024 * MiB }, () => {
      if (++calls === 2) inflater.release();
    }, limiter);
    inflater.write(await zipBomb(256 * MiB));
    const pending = inflater.end();
    const queued = inflater.end(); // a second message's end, still queued behind the first
    const first = await pending;
    assert.equal(first.ok, false);
    if (!first.ok) assert.equal(first.error.code, 'COMPRESSION_RELEASED');
    assert.deepEqual(await queued, first);
    assert.equal(calls, 2);
    assert.equal(inflater.holdsZlib, false);
    assert.equal(limiter.active, 0);
    inflater.write(Buffer.from('ignored'));
    assert.deepEqual(await inflater.end(), first);
  });

  test('release mid-deflate: in-flight and queued messages resolve COMPRESSION_RELEASED, the limiter moves on', async () => {
    const limiter = new ZlibLimiter(1);
    const deflater = new MessageDeflater(deflaterSettings(15, false), limiter);
    const other = new MessageDeflater(deflaterSettings(15, false), limiter);
    const inFlight = deflater.deflate(randomBytes(4 * MiB));
    const queued = deflater.deflate(jsonMessage(1));
    const othersTurn = other.deflate(jsonMessage(2)); // waits for the one slot
    deflater.release();
    for (const outcome of [await inFlight, await queued]) {
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.equal(outcome.error.code, 'COMPRESSION_RELEASED');
    }
    assert.ok((await othersTurn).ok, 'the slot came back');
    assert.equal(deflater.holdsZlib, false);
    assert.equal(limiter.active, 0);
    other.release();
  });

  test('release while waiting for a limiter slot gives the slot straight back', async () => {
    const limiter = new ZlibLimiter(1);
    let releaseBlocker!: () => void;
    limiter.run((done) => (releaseBlocker = done));
    const receiver = collectingInflater(15, false, MiB, limiter);
    receiver.inflater.write(Buffer.from([1, 2, 3]));
    const end = receiver.inflater.end();
    assert.equal(limiter.queued, 1);
    receiver.inflater.release();
    assert.equal(((await end) as { error: WebSocketError }).error.code, 'COMPRESSION_RELEASED');
    releaseBlocker();
    assert.equal(limiter.active, 0);
    assert.equal(limiter.queued, 0);
  });
});

describe('a negotiated session wires each direction to its side of the agreement', () => {
  test('server and client sessions from one agreement talk to each other; the threshold is local', async () => {
    const offer = buildOffer(resolvePerMessageDeflate({ serverMaxWindowBits: 10, clientNoContextTakeover: true })!);
    const parsedOffer = parseExtensions(offer);
    assert.ok(parsedOffer.ok);
    const accepted = acceptOffer(parsedOffer.offers, resolvePerMessageDeflate(true)!);
    assert.ok(accepted);
    const parsedAnswer = parseExtensions(accepted.response);
    assert.ok(parsedAnswer.ok);
    const clientView = checkResponse(parsedAnswer.offers, resolvePerMessageDeflate({ serverMaxWindowBits: 10, clientNoContextTakeover: true })!);
    assert.ok(clientView.ok && clientView.params);
    assert.deepEqual(clientView.params, accepted.params);

    const received = { server: [] as Buffer[], client: [] as Buffer[] };
    const server = new PerMessageDeflateSession(accepted.params, 'server', resolvePerMessageDeflate({ threshold: 10 })!, MiB, (chunk) => received.server.push(chunk));
    const client = new PerMessageDeflateSession(clientView.params, 'client', resolvePerMessageDeflate(true)!, MiB, (chunk) => received.client.push(chunk));
    assert.equal(server.shouldCompress(9), false);
    assert.equal(server.shouldCompress(10), true);
    assert.equal(client.shouldCompress(1023), false);
    for (const [from, to, inbox] of [[server, client, received.client], [client, server, received.server]] as const) {
      for (const message of [jsonMessage(5), jsonMessage(5), farRepeats(20_000, seededRandom(1))]) {
        const outcome = await from.deflater.deflate(message);
        assert.ok(outcome.ok);
        to.inflater.write(outcome.payload);
        assert.ok((await to.inflater.end()).ok);
        assert.ok(Buffer.concat(inbox.splice(0)).equals(message));
      }
    }
    // The client agreed not to take context over, so its compressor holds nothing between messages.
    assert.equal(client.deflater.holdsZlib, false);
    assert.equal(server.deflater.holdsZlib, true);
    server.release();
    client.release();
    assert.equal(server.deflater.holdsZlib || server.inflater.holdsZlib, false);
  });
});
