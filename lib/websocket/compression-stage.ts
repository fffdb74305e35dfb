// permessage-deflate on a live connection (RFC 7692 §6, §7.2): the stage between the sans-I/O core and
// the application, in the adapter layer. The core only checks RSV1 and flags a message "compressed";
// this stage inflates received messages and deflates sent ones with the connection's
// PerMessageDeflateSession (permessage-deflate/). A message with nothing waiting before it is handled
// on the spot (zlib-sync.ts); otherwise zlib's work is asynchronous, which the rules below are for.
//
// Received: one compressed message at a time. The adapter stops taking events from the core (and pauses
// the socket) until the message is inflated, so messages keep their order and a peer cannot queue up
// unbounded work. The inflated size counts against maxMessageBytes as zlib produces it (1009), and text
// is checked as UTF-8 piece by piece as it comes out of zlib (1007 at the first bad byte).
//
// Sent: messages leave in call order even when compressing takes a trip to the threadpool: while any
// message is being compressed, later ones (compressed or not, and a close) wait in a queue behind it.

import { CloseCode } from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { MessageAssembler } from './message-assembler.ts';
import { directionSettings, type PerMessageDeflateParams } from './permessage-deflate/negotiation.ts';
import type { ResolvedPerMessageDeflateOptions } from './permessage-deflate/options.ts';
import type { InflateResult } from './permessage-deflate/inflater.ts';
import { PerMessageDeflateSession } from './permessage-deflate/session.ts';
import { Utf8Validator } from './utf8.ts';

export type InflatedMessage = { ok: true; data: Buffer } | { ok: false; error: WebSocketError };

/** A send waiting its turn: ready once its payload is final (compressed or not). */
interface QueuedSend {
  ready: boolean;
  /** Bytes it stands for in `bufferedAmount` until it is handed to the core. */
  byteLength: number;
  run(): void;
}

export class CompressionStage {
  private readonly session: PerMessageDeflateSession;
  private readonly inflated: MessageAssembler;
  private readonly validator = new Utf8Validator();
  private inflatingText = false;
  private readonly queue: QueuedSend[] = [];
  private queuedBytes = 0;
  /** Window bits of what we send when we keep no context between messages (a shared frame fits); else undefined. */
  private readonly sharedFrameWindowBits: number | undefined;

  constructor(
    params: PerMessageDeflateParams,
    role: 'server' | 'client',
    options: ResolvedPerMessageDeflateOptions,
    maxMessageBytes: number,
    /** Called when compressing failed (a zlib error): the connection should close with the error's code. */
    private readonly onDeflateError: (error: WebSocketError) => void,
  ) {
    this.inflated = new MessageAssembler(maxMessageBytes);
    this.session = new PerMessageDeflateSession(params, role, options, maxMessageBytes, (chunk) => this.takeInflated(chunk));
    const outgoing = directionSettings(params, role).outgoing;
    // Only a server's frames are unmasked, hence shareable; and only without context takeover on our
    // side, or a message compressed elsewhere would leave a gap in the window our own deflater assumes.
    this.sharedFrameWindowBits = role === 'server' && outgoing.noContextTakeover ? outgoing.windowBits : undefined;
  }

  // ── Received messages ─────────────────────────────────────────────────────────────────────────

  /**
   * Inflate one whole received message (its compressed payload, all frames joined): at once when it is
   * small and nothing waits before it (the hot path: no threadpool trip, no promise), else a promise.
   * Never rejects.
   */
  inflateMessage(payload: Buffer, isBinary: boolean): InflatedMessage | Promise<InflatedMessage> {
    this.inflatingText = !isBinary;
    const result = this.session.inflater.inflateMessage(payload);
    return result instanceof Promise ? result.then((settled) => this.finishInflated(settled)) : this.finishInflated(result);
  }

  /** The message inflated so far, once zlib is done with it: checked as a whole (its UTF-8 end) and taken. */
  private finishInflated(result: InflateResult): InflatedMessage {
    const data = this.inflated.take();
    if (!result.ok) {
      this.validator.reset();
      return result;
    }
    if (this.inflatingText && !this.validator.finish()) {
      return { ok: false, error: new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message ends inside a UTF-8 character') };
    }
    return { ok: true, data };
  }

  /** A piece of inflated output, in order. Throwing fails the inflater: the message is refused. */
  private takeInflated(chunk: Buffer): void {
    // Fail fast (RFC 6455 §8.1), as for uncompressed text: at the first invalid byte zlib produces.
    if (this.inflatingText && !this.validator.push(chunk)) {
      this.validator.reset();
      throw new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message is not valid UTF-8');
    }
    this.inflated.append(chunk, 0);
  }

  // ── Sent messages ─────────────────────────────────────────────────────────────────────────────

  /** Should a message of this size be compressed (at or above the threshold)? */
  shouldCompress(byteLength: number): boolean {
    return this.session.shouldCompress(byteLength);
  }

  /**
   * The window bits for which a message compressed once for many connections (PreparedMessage) may be
   * sent on this one as it is, or undefined: it is under the threshold, or this connection keeps context.
   */
  sharedFrameWindow(byteLength: number): number | undefined {
    return this.session.shouldCompress(byteLength) ? this.sharedFrameWindowBits : undefined;
  }

  /** Nothing waits: a message that needs no compressing may go out at once without overtaking any. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Bytes of messages accepted but not yet handed to the core. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /**
   * Send `message` after everything queued before it, compressed or as it is. `send` gets the final
   * payload and whether it is compressed (RSV1). The message is read later: it must not be changed.
   */
  enqueue(message: Buffer, compress: boolean, send: (payload: Buffer, compressed: boolean) => void): void {
    if (!compress) {
      this.enqueueAction(message.length, () => send(message, false));
      return;
    }
    if (this.queue.length === 0) {
      // Nothing waits: a small message is compressed now and sent at once (no threadpool trip, no promise).
      const result = this.session.deflater.deflateNow(message);
      if (result !== undefined) {
        if (result.ok) send(result.payload, true);
        else if (result.error.code !== 'COMPRESSION_RELEASED') this.onDeflateError(result.error);
        return;
      }
    }
    const entry: QueuedSend = { ready: false, byteLength: message.length, run: () => {} };
    this.queue.push(entry);
    this.queuedBytes += entry.byteLength;
    void this.session.deflater.deflate(message).then((result) => {
      entry.ready = true;
      if (result.ok) entry.run = () => send(result.payload, true);
      else if (result.error.code !== 'COMPRESSION_RELEASED') entry.run = () => this.onDeflateError(result.error);
      this.flush();
    });
  }

  /** Run `action` (a close, an uncompressed frame) once every message queued before it has gone out. */
  enqueueAction(byteLength: number, action: () => void): void {
    if (this.queue.length === 0) return action();
    this.queue.push({ ready: true, byteLength, run: action });
    this.queuedBytes += byteLength;
  }

  /** Free the zlib state now (the connection is closing or gone); queued sends are dropped. */
  release(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.session.release();
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].ready) {
      const entry = this.queue.shift()!;
      this.queuedBytes -= entry.byteLength;
      entry.run();
    }
  }
}
