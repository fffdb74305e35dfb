// A synchronous step of a node:zlib stream, for messages so small that the trip to the libuv threadpool
// costs more than the compression itself (RFC 7692 §7.2.1 and §7.2.2 with context takeover).
//
// Why it exists: permessage-deflate's compressor and decompressor keep their state (the LZ77 window)
// from one message to the next, and the only node:zlib object that keeps state between calls is the
// stream, whose public API is asynchronous: every message costs a threadpool job, a thread wake-up and
// a callback. The stream's native handle can also run synchronously — `writeSync`, the call Node's own
// one-shot `deflateRawSync()` family makes (which then closes the handle, so it cannot carry a window).
// Measured (`node --import tsx bench/deflate-sync-vs-async.ts`: 1 KiB JSON messages compressed and
// inflated one at a time, window 15, level 6, context takeover): 11.9 µs per message through
// `writeSync`, 84.9 µs through the stream, 164.9 µs for ws, in the same run.
//
// The price: `_handle` and `_writeState` are internals of node:zlib (stable since Node 0.11, but not
// documented). This file is their only user and checks they are there (`canStepSync`); without them the
// callers keep to the asynchronous stream, which stays the path for large messages anyway, so a
// message never holds the event loop for long. The caller must not step a stream that has an
// asynchronous write in flight: both would drive the same zlib state.

import type zlib from 'node:zlib';

interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inputOffset: number, inputLength: number, output: Buffer, outputOffset: number, outputLength: number): void;
}

interface ZlibStreamInternals {
  _handle?: ZlibHandle | null;
  /** [output bytes left, input bytes left] after each write: what zlib reports back. */
  _writeState?: Uint32Array;
}

export type ZlibStream = zlib.DeflateRaw | zlib.InflateRaw;

/** How a synchronous step ended. */
export const SyncStep = {
  /** All input consumed and flushed. */
  Done: 0,
  /** zlib reached the end of the deflate stream (a final block) with input left over: the stream is finished. */
  StreamEnded: 1,
  /** `onOutput` asked to stop. */
  Stopped: 2,
  /** zlib reported an error: the stream is destroyed (its 'error' event follows on a later tick). */
  Failed: 3,
} as const;
export type SyncStep = (typeof SyncStep)[keyof typeof SyncStep];

/** One scratch output buffer for every synchronous step in the process: a step never yields mid-way. */
const scratch = Buffer.allocUnsafe(64 * 1024);

/** Can `stream` be stepped synchronously (this Node has the internals, and the stream is alive)? */
export function canStepSync(stream: ZlibStream): boolean {
  const internals = stream as unknown as ZlibStreamInternals;
  return !stream.destroyed && typeof internals._handle?.writeSync === 'function' && internals._writeState instanceof Uint32Array;
}

/**
 * Feed `input` to the stream's zlib with `flush` (Z_SYNC_FLUSH: all output comes out), synchronously.
 * Each piece of output goes to `onOutput` as a fresh Buffer of its own; returning false from it stops,
 * and then `inputUsed` says how much of `input` zlib took (the rest, and any output zlib still holds,
 * can follow through the stream's asynchronous `write`).
 */
export function stepSync(stream: ZlibStream, input: Buffer, flush: number, onOutput: (piece: Buffer) => boolean): { step: SyncStep; inputUsed: number } {
  const internals = stream as unknown as ZlibStreamInternals;
  const handle = internals._handle!;
  const state = internals._writeState!;
  let inputOffset = 0;
  let inputLeft = input.length;
  for (;;) {
    handle.writeSync(flush, input, inputOffset, inputLeft, scratch, 0, scratch.length);
    if (stream.destroyed) return { step: SyncStep.Failed, inputUsed: inputOffset }; // zlib's error handler destroyed the stream
    const outputLeft = state[0]!;
    const produced = scratch.length - outputLeft;
    inputOffset += inputLeft - state[1]!;
    inputLeft = state[1]!;
    if (produced > 0 && !onOutput(Buffer.from(scratch.subarray(0, produced)))) return { step: SyncStep.Stopped, inputUsed: inputOffset };
    // Output space left over means zlib said all it had. Input left over as well means it stopped
    // taking input: the deflate stream ended (the same rule node:zlib's own stream applies).
    if (outputLeft !== 0) return { step: inputLeft > 0 ? SyncStep.StreamEnded : SyncStep.Done, inputUsed: inputOffset };
  }
}
