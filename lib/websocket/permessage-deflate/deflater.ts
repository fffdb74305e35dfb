// Compressing messages to send: RFC 7692 §7.2.1. One MessageDeflater per connection, for what we send.
// Each message is deflated raw and sync-flushed, which ends the output on a byte boundary with the
// empty stored block `00 00 ff ff`; that tail is stripped (the receiver puts it back). With context
// takeover the zlib state (the LZ77 window) carries over to the next message, so repeated JSON keys
// compress to a few bytes; without it the state is reset.
//
// Asynchronous, like the inflater and for the same reason (see inflater.ts): a stateful zlib object is
// a stream. Calls are queued and complete in call order, one message per limiter slot. A message up to
// SYNC_DEFLATE_MAX_BYTES with nothing queued before it is compressed synchronously instead
// (`deflateNow`, through zlib-sync.ts), where the threadpool trip would cost more than the work.
//
// Memory: the zlib object (≈ 256 KiB at window 15, memLevel 8) exists only from the first message on;
// without context takeover it is freed whenever the queue runs dry, so an idle connection holds none.

import zlib from 'node:zlib';
import { CloseCode } from '../close-codes.ts';
import { WebSocketError } from '../errors.ts';
import { DEFLATE_TAIL, compressorWindowBits } from './constants.ts';
import { sharedZlibLimiter, type ZlibLimiter } from './zlib-limiter.ts';
import { canStepSync, stepSync, SyncStep } from './zlib-sync.ts';

export interface DeflaterSettings {
  /** The negotiated window for what we send, 8–15 (8 is compressed with zlib's 9: constants.ts). */
  windowBits: number;
  /** Reset the compressor after every message (we agreed not to take context over). */
  noContextTakeover: boolean;
  /** zlib level 0–9. */
  level: number;
  /** zlib memLevel 1–9. */
  memLevel: number;
}

export type DeflateResult = { ok: true; payload: Buffer } | { ok: false; error: WebSocketError };

interface DeflateJob {
  message: Buffer;
  resolve: (result: DeflateResult) => void;
}

const SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

/**
 * Messages up to this size are compressed synchronously (`deflateNow`) when nothing waits before them.
 * On the spot a 1 KiB message costs a seventh of a threadpool trip (zlib-sync.ts has the figures). The
 * event loop is then held as long as the bytes take to compress (well under a millisecond at 64 KiB,
 * level 6): a cost proportional to what is sent, like framing it.
 */
export const SYNC_DEFLATE_MAX_BYTES = 64 * 1024;
const EMPTY_MESSAGE_PAYLOAD = Buffer.from([0x00]);

export class MessageDeflater {
  private stream: zlib.DeflateRaw | undefined;
  private readonly queue: DeflateJob[] = [];
  private current: DeflateJob | undefined;
  private output: Buffer[] = [];
  private outputBytes = 0;
  private busy = false;
  private giveBackSlot: (() => void) | undefined;
  private failure: WebSocketError | undefined;

  constructor(
    private readonly settings: DeflaterSettings,
    private readonly limiter: ZlibLimiter = sharedZlibLimiter(),
  ) {}

  /** Messages waiting or being compressed. */
  get pending(): number {
    return this.queue.length + (this.current === undefined ? 0 : 1);
  }

  get holdsZlib(): boolean {
    return this.stream !== undefined;
  }

  get error(): WebSocketError | undefined {
    return this.failure;
  }

  /**
   * Compress one whole message. Resolves with the payload to send with RSV1 set (tail stripped), in call
   * order. Never rejects. The message is kept by reference until compressed: do not overwrite it.
   */
  deflate(message: Buffer): Promise<DeflateResult> {
    if (this.failure !== undefined) return Promise.resolve({ ok: false, error: this.failure });
    return new Promise((resolve) => {
      this.queue.push({ message, resolve });
      this.schedule();
    });
  }

  /**
   * Compress one whole message now, synchronously, if it is small (SYNC_DEFLATE_MAX_BYTES) and nothing
   * is queued before it; otherwise undefined, and the caller takes the asynchronous way (`deflate()`).
   */
  deflateNow(message: Buffer): DeflateResult | undefined {
    if (this.failure !== undefined || this.busy || this.queue.length > 0 || message.length > SYNC_DEFLATE_MAX_BYTES) return undefined;
    const stream = (this.stream ??= this.createStream());
    if (!canStepSync(stream)) return undefined;
    const pieces: Buffer[] = [];
    let total = 0;
    const { step } = stepSync(stream, message, SYNC_FLUSH, (piece) => {
      pieces.push(piece);
      total += piece.length;
      return true;
    });
    if (step === SyncStep.Failed) this.fail(new WebSocketError('COMPRESSION_FAILED', CloseCode.InternalError, 'zlib failed to compress'));
    if (this.failure !== undefined) return { ok: false, error: this.failure };
    const payload = this.stripTail(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total));
    if (!payload.ok) return payload;
    if (this.settings.noContextTakeover) this.dropStream(); // idle: hold no zlib state at all
    return payload;
  }

  /** Free the zlib state now. Pending calls resolve with COMPRESSION_RELEASED; later ones too. */
  release(): void {
    this.fail(new WebSocketError('COMPRESSION_RELEASED', CloseCode.GoingAway, 'the compressor was released'));
  }

  private schedule(): void {
    if (this.busy || this.queue.length === 0 || this.failure !== undefined) return;
    this.busy = true;
    this.limiter.run((done) => this.runJob(done));
  }

  private runJob(done: () => void): void {
    if (this.failure !== undefined) return done(); // released while waiting for a slot
    this.giveBackSlot = done;
    const job = this.queue.shift()!;
    this.current = job;
    const stream = (this.stream ??= this.createStream());
    // The stream was made with flush: Z_SYNC_FLUSH, so this one write is the whole job: one trip to the
    // threadpool per message instead of a write and a separate flush.
    stream.write(job.message, () => this.jobDone(stream));
  }

  private jobDone(stream: zlib.DeflateRaw): void {
    if (this.failure !== undefined || stream !== this.stream) return; // abandoned: already settled by fail()
    const job = this.current!;
    this.current = undefined;
    const flushed = this.output.length === 1 ? this.output[0] : Buffer.concat(this.output, this.outputBytes);
    this.output = [];
    this.outputBytes = 0;
    const payload = this.stripTail(flushed);
    if (!payload.ok) {
      job.resolve(payload);
      return;
    }
    this.finishJob(job, payload.payload, stream);
  }

  /** A sync-flushed message as it goes on the wire: its `00 00 ff ff` tail stripped (RFC 7692 §7.2.1). */
  private stripTail(flushed: Buffer): DeflateResult {
    // zlib writes nothing for a flush with no new input since the last one (an empty message after a
    // message, with context takeover): send a single 0x00 byte, an empty non-final block once the
    // receiver appends the tail (RFC 7692 §7.2.3).
    if (flushed.length === 0) return { ok: true, payload: EMPTY_MESSAGE_PAYLOAD };
    if (flushed.length < DEFLATE_TAIL.length || !flushed.subarray(flushed.length - DEFLATE_TAIL.length).equals(DEFLATE_TAIL)) {
      this.fail(new WebSocketError('COMPRESSION_FAILED', CloseCode.InternalError, 'zlib output did not end with a sync flush'));
      return { ok: false, error: this.failure! };
    }
    return { ok: true, payload: flushed.subarray(0, flushed.length - DEFLATE_TAIL.length) };
  }

  private finishJob(job: DeflateJob, payload: Buffer, stream: zlib.DeflateRaw): void {
    if (this.settings.noContextTakeover) {
      if (this.queue.length === 0) this.dropStream(); // idle: hold no zlib state at all
      else stream.reset();
    }
    this.busy = false;
    const done = this.giveBackSlot!;
    this.giveBackSlot = undefined;
    done();
    job.resolve({ ok: true, payload });
    this.schedule();
  }

  private createStream(): zlib.DeflateRaw {
    const stream = zlib.createDeflateRaw({
      windowBits: compressorWindowBits(this.settings.windowBits),
      level: this.settings.level,
      memLevel: this.settings.memLevel,
      flush: SYNC_FLUSH,
    });
    stream.on('data', (chunk: Buffer) => {
      this.output.push(chunk);
      this.outputBytes += chunk.length;
    });
    stream.on('error', (error: Error) => {
      this.fail(new WebSocketError('COMPRESSION_FAILED', CloseCode.InternalError, `zlib failed to compress: ${error.message}`));
    });
    return stream;
  }

  private dropStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.close();
  }

  private fail(error: WebSocketError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.dropStream();
    const jobs = this.current === undefined ? this.queue.splice(0) : [this.current, ...this.queue.splice(0)];
    this.current = undefined;
    this.output = [];
    this.outputBytes = 0;
    this.busy = false;
    const done = this.giveBackSlot;
    this.giveBackSlot = undefined;
    done?.();
    for (const job of jobs) job.resolve({ ok: false, error });
  }
}
