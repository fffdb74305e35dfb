// Decompressing received messages: RFC 7692 §7.2.2. One MessageInflater per connection, for what the
// peer sends. Payload pieces go in as frames arrive; at the end of a message the stripped tail
// `00 00 ff ff` is put back, so zlib can output every byte of the message.
//
// Bounded: the DECOMPRESSED size counts against maxMessageBytes as zlib produces it, one output chunk
// (OUTPUT_CHUNK_BYTES, 64 KiB) at a time. A small frame that would inflate to gigabytes is stopped at the limit with 1009,
// having allocated the limit plus one chunk. Output is handed over as produced, so the caller can
// validate UTF-8 on the way and fail fast (throw a WebSocketError from `onData`).
//
// Sync or async zlib: Node's only public zlib object that keeps state between calls (which context
// takeover needs) is the stream (zlib.createInflateRaw), and streams run on the libuv threadpool, so
// the general path is asynchronous. Work is queued through the process-wide limiter (zlib-limiter.ts),
// in call order, so messages come out in order. A whole message with nothing queued before it is
// inflated synchronously instead (`inflateMessage`, through zlib-sync.ts): for a small message a
// threadpool trip costs several times the work (zlib-sync.ts). The event loop is held for at most SYNC_OUTPUT_BYTES of
// output: a message that inflates to more (a large one, or a bomb) goes on through the threadpool from
// where it stopped, on the same zlib state.
//
// Memory: the zlib object is created on the first piece, not with the connection (an idle connection
// holds none), and without context takeover it is freed after each message (nothing kept between).

import zlib from 'node:zlib';
import { CloseCode } from '../close-codes.ts';
import { WebSocketError } from '../errors.ts';
import { DEFLATE_TAIL } from './constants.ts';
import { canStepSync, stepSync, SyncStep } from './zlib-sync.ts';
import { sharedZlibLimiter, type ZlibLimiter } from './zlib-limiter.ts';

export interface InflaterSettings {
  /** The window the peer compresses with (negotiated, 8–15). */
  windowBits: number;
  /** The peer resets its compressor after each message, so we may reset (and free) ours too. */
  noContextTakeover: boolean;
  /** Largest decompressed message; one more byte fails it with MESSAGE_TOO_BIG / 1009. */
  maxMessageBytes: number;
}

export type InflateResult = { ok: true; byteLength: number } | { ok: false; error: WebSocketError };

/** Receives the decompressed bytes of the current message, in order. Throw a WebSocketError to fail it. */
export type InflateOutput = (chunk: Buffer) => void;

interface EndOfMessage {
  resolve: (result: InflateResult) => void;
  /** No payload byte came for this message: it is empty, and zlib must not see a lone tail. */
  empty: boolean;
  /** The tail is already in the queued input (a message that began synchronously). */
  tailQueued?: boolean;
}

/**
 * zlib's output buffer. Node's zlib stream goes back to the threadpool each time this fills, so with
 * the default 16 KiB a 64 KiB message costs four trips; at 64 KiB one (about 12% less server CPU per
 * 64 KiB compressed echo, docs/benchmark.md "perf pass"). The price: a live decompressor reserves
 * 64 KiB instead of 16 KiB (counted in `external`; RSS grows only as pages are written, and the
 * buffer is shared by the messages inflated into it).
 */
const OUTPUT_CHUNK_BYTES = 64 * 1024;

/** Batches up to this size are copied into one buffer: a copy is cheaper than a threadpool round trip. */
const JOIN_BELOW_BYTES = 16 * 1024;

/** A received message up to this size (compressed) starts inflating synchronously (`inflateMessage`). */
export const SYNC_INFLATE_MAX_BYTES = 64 * 1024;

/**
 * Output a message may produce synchronously before the rest goes through the threadpool: about 1 ms of
 * zlib on the event loop (inflating runs at 1–2 GB/s), however far a bomb would expand.
 */
export const SYNC_OUTPUT_BYTES = 1024 * 1024;

const SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

function isPiece(item: Buffer | EndOfMessage): item is Buffer {
  return item instanceof Uint8Array;
}

export class MessageInflater {
  private stream: zlib.InflateRaw | undefined;
  /** Work not yet given to zlib: payload pieces and end-of-message marks, in call order. */
  private readonly queue: (Buffer | EndOfMessage)[] = [];
  private queuedBytes = 0;
  /** Compressed bytes written since the last end(): 0 at end() means an empty message. */
  private bytesSinceEnd = 0;
  /** A batch is with zlib (or waiting for a limiter slot). */
  private busy = false;
  private giveBackSlot: (() => void) | undefined;
  private endInFlight: EndOfMessage | undefined;
  private messageBytes = 0;
  private failure: WebSocketError | undefined;

  constructor(
    private readonly settings: InflaterSettings,
    private readonly onData: InflateOutput,
    private readonly limiter: ZlibLimiter = sharedZlibLimiter(),
  ) {}

  /** Compressed bytes received but not yet inflated: pause reading the socket while this grows (backpressure). */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** True while zlib has work from this inflater in hand or queued. */
  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  /** Does this inflater hold a zlib object right now? (Memory accounting and tests.) */
  get holdsZlib(): boolean {
    return this.stream !== undefined;
  }

  /** Once failed or released, every later call answers with this error. */
  get error(): WebSocketError | undefined {
    return this.failure;
  }

  /**
   * A piece of the current message's compressed payload (any frame, any split). Kept by reference until
   * zlib takes it: pass a copy if the bytes may be overwritten meanwhile.
   */
  write(piece: Buffer): void {
    if (this.failure !== undefined || piece.length === 0) return;
    this.queue.push(piece);
    this.queuedBytes += piece.length;
    this.bytesSinceEnd += piece.length;
    this.schedule();
  }

  /**
   * The current message is complete. Resolves once all its output went to `onData`. Never rejects.
   * `lastPiece` (optional) is its last compressed piece: given here rather than to write(), it reaches
   * zlib in the same job as the tail, so a whole small message costs one threadpool trip instead of two
   * (a write() starts zlib at once when a limiter slot is free, before the tail is known). Same
   * ownership rule as write().
   */
  end(lastPiece?: Buffer): Promise<InflateResult> {
    if (this.failure !== undefined) return Promise.resolve({ ok: false, error: this.failure });
    if (lastPiece !== undefined && lastPiece.length > 0) {
      this.queue.push(lastPiece);
      this.queuedBytes += lastPiece.length;
      this.bytesSinceEnd += lastPiece.length;
    }
    const empty = this.bytesSinceEnd === 0;
    this.bytesSinceEnd = 0;
    // An empty payload with RSV1 set: an empty message. Appending the tail alone would leave zlib inside
    // a stored block, reading the next message as raw bytes, so zlib never sees it.
    if (empty && this.idle) return Promise.resolve({ ok: true, byteLength: 0 });
    return new Promise((resolve) => {
      this.queue.push({ resolve, empty });
      this.schedule();
    });
  }

  /**
   * Inflate a whole message, synchronously when nothing is queued before it and it is no larger than
   * SYNC_INFLATE_MAX_BYTES (then the result comes back at once); otherwise, or once it has produced
   * SYNC_OUTPUT_BYTES, through the threadpool (a promise). Output goes to `onData` as with `end()`,
   * within the same limits.
   */
  inflateMessage(payload: Buffer): InflateResult | Promise<InflateResult> {
    if (this.failure !== undefined || !this.idle || this.bytesSinceEnd !== 0 || payload.length > SYNC_INFLATE_MAX_BYTES) return this.end(payload);
    if (payload.length === 0) return { ok: true, byteLength: 0 }; // an empty message: zlib must not see a lone tail (see end())
    const stream = (this.stream ??= this.createStream());
    if (!canStepSync(stream)) return this.end(payload);
    this.messageBytes = 0;
    const input = Buffer.allocUnsafe(payload.length + DEFLATE_TAIL.length);
    payload.copy(input, 0);
    DEFLATE_TAIL.copy(input, payload.length);
    const { step, inputUsed } = stepSync(stream, input, SYNC_FLUSH, (piece) => {
      this.output(piece);
      return this.failure === undefined && this.messageBytes < SYNC_OUTPUT_BYTES;
    });
    if (step === SyncStep.Failed) this.fail(corruptStream(new Error('invalid deflate data')));
    if (this.failure !== undefined) return { ok: false, error: this.failure };
    if (step === SyncStep.Stopped) return this.continueOnThreadpool(input.subarray(inputUsed));
    const byteLength = this.messageBytes;
    this.messageBytes = 0;
    // As after an asynchronous message (batchDone): no context kept, or the peer ended its deflate stream.
    if (this.settings.noContextTakeover || step === SyncStep.StreamEnded) this.dropStream();
    return { ok: true, byteLength };
  }

  /**
   * The rest of a message that began synchronously: its remaining input (tail included, possibly none
   * left: zlib may still hold output) goes through the stream, counted on from `messageBytes`.
   */
  private continueOnThreadpool(rest: Buffer): Promise<InflateResult> {
    return new Promise((resolve) => {
      this.queue.push(rest);
      this.queuedBytes += rest.length;
      this.queue.push({ resolve, empty: false, tailQueued: true });
      this.schedule();
    });
  }

  /** Free the zlib state now. Pending `end()` calls resolve with COMPRESSION_RELEASED; later calls are ignored. */
  release(): void {
    this.fail(new WebSocketError('COMPRESSION_RELEASED', CloseCode.GoingAway, 'the decompressor was released'));
  }

  private schedule(): void {
    if (this.busy || this.queue.length === 0 || this.failure !== undefined) return;
    this.busy = true;
    this.limiter.run((done) => this.runBatch(done));
  }

  /**
   * Give zlib every queued piece up to the next end of message, the tail after it. The callback of the
   * last write means all of it is inflated: zlib's inflate always outputs all it can, so no flush is
   * needed. A small batch (the usual message) is joined into one write: one trip to the threadpool.
   */
  private runBatch(done: () => void): void {
    if (this.failure !== undefined) return done(); // released while waiting for a slot
    while (this.queue.length > 0 && !isPiece(this.queue[0]) && this.queue[0].empty) {
      (this.queue.shift() as EndOfMessage).resolve({ ok: true, byteLength: 0 });
    }
    if (this.queue.length === 0) {
      this.busy = false;
      return done();
    }
    this.giveBackSlot = done;
    const stream = (this.stream ??= this.createStream());
    const pieces: Buffer[] = [];
    let batchBytes = 0;
    let end: EndOfMessage | undefined;
    while (this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (isPiece(item)) {
        pieces.push(item);
        batchBytes += item.length;
      } else {
        end = item;
        if (!end.empty && end.tailQueued !== true) {
          pieces.push(DEFLATE_TAIL);
          batchBytes += DEFLATE_TAIL.length;
        }
        break;
      }
    }
    this.queuedBytes -= batchBytes - (end === undefined || end.empty || end.tailQueued === true ? 0 : DEFLATE_TAIL.length);
    this.endInFlight = end;
    const onWritten = () => this.batchDone(stream);
    if (pieces.length > 1 && batchBytes <= JOIN_BELOW_BYTES) {
      stream.write(Buffer.concat(pieces, batchBytes), onWritten);
      return;
    }
    for (let index = 0; index < pieces.length - 1; index++) stream.write(pieces[index]);
    stream.write(pieces[pieces.length - 1], onWritten);
  }

  private batchDone(stream: zlib.InflateRaw): void {
    if (this.failure !== undefined || stream !== this.stream) return; // abandoned: already settled by fail()
    const end = this.endInFlight;
    this.endInFlight = undefined;
    if (end !== undefined) {
      const byteLength = this.messageBytes;
      this.messageBytes = 0;
      // A peer may end a message with a final block (BFINAL=1, one of the examples of RFC 7692 §7.2.3): zlib's stream then
      // ends and takes no more input, so the next message needs a fresh one (losing the context is what
      // the peer chose: it can no longer refer back past a final block).
      if (this.settings.noContextTakeover || stream.readableEnded) this.dropStream();
      end.resolve({ ok: true, byteLength });
    }
    this.busy = false;
    const done = this.giveBackSlot!;
    this.giveBackSlot = undefined;
    done();
    this.schedule();
  }

  private createStream(): zlib.InflateRaw {
    const stream = zlib.createInflateRaw({ windowBits: this.settings.windowBits, chunkSize: OUTPUT_CHUNK_BYTES });
    stream.on('data', (chunk: Buffer) => this.output(chunk));
    stream.on('error', (error: Error) => this.fail(corruptStream(error)));
    return stream;
  }

  private output(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.messageBytes += chunk.length;
    if (this.messageBytes > this.settings.maxMessageBytes) {
      this.fail(new WebSocketError('MESSAGE_TOO_BIG', CloseCode.MessageTooBig, `decompressed message exceeds ${this.settings.maxMessageBytes} bytes`));
      return;
    }
    try {
      this.onData(chunk);
    } catch (error) {
      this.fail(error instanceof WebSocketError ? error : new WebSocketError('COMPRESSION_FAILED', CloseCode.InternalError, `decompressed data was refused: ${String(error)}`));
    }
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.close(); // its 'error' listener stays: a late zlib error on a closed stream is ignored, never thrown
  }

  /** Settle everything pending with `error`, free zlib and the limiter slot, and refuse all further work. */
  private fail(error: WebSocketError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.dropStream();
    const ends: EndOfMessage[] = [];
    if (this.endInFlight !== undefined) ends.push(this.endInFlight);
    for (const item of this.queue) if (!isPiece(item)) ends.push(item);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.endInFlight = undefined;
    this.busy = false;
    const done = this.giveBackSlot;
    this.giveBackSlot = undefined;
    done?.();
    for (const end of ends) end.resolve({ ok: false, error });
  }
}

function corruptStream(error: Error): WebSocketError {
  // RFC 7692 §8.1 leaves the status to the receiver; a payload that does not decompress is data that is
  // not consistent with the message type, 1007 (RFC 6455 §7.4.1), as ws answers too.
  return new WebSocketError('INVALID_COMPRESSED_DATA', CloseCode.InvalidPayload, `compressed message does not inflate: ${error.message}`);
}
