// Write coalescing for one socket (no RFC: a performance device of the adapter).
// Every frame written during one tick of the event loop leaves in one write call: small frames are
// copied into one buffer, large ones go out together through the socket's writev (cork/uncork).
//
// Why: a write per frame costs a system call and a libuv request each; an echo server answering ten
// pipelined messages from one TCP chunk should make one write, not ten (ws makes ten, with a cork each).

import type { Duplex } from 'node:stream';

/** Up to this many queued bytes are copied into one buffer; past it, buffers go out as they are. */
const COPY_LIMIT = 64 * 1024;

export class WriteBatcher {
  private chunks: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;

  /**
   * `listener.afterFlush` runs after each batch is handed to the socket: a batch the socket takes whole
   * raises no 'drain' of its own, yet may be what brings the adapter's buffer back under its high-water
   * mark. (An object with a method rather than a callback: no closure per connection.)
   */
  constructor(
    private readonly socket: Duplex,
    private readonly listener?: { afterFlush(): void },
  ) {}

  /** Bytes accepted but not yet handed to the socket. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  write(data: Buffer): void {
    this.chunks.push(data);
    this.queuedBytes += data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushBatch, this);
    }
  }

  /** Hand everything queued to the socket now. */
  flush(): void {
    this.flushScheduled = false;
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    const total = this.queuedBytes;
    this.chunks = [];
    this.queuedBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
    } else if (total <= COPY_LIMIT) {
      this.socket.write(Buffer.concat(chunks, total));
    } else {
      this.socket.cork();
      for (const chunk of chunks) this.socket.write(chunk);
      this.socket.uncork();
    }
    this.listener?.afterFlush();
  }

  /** Drop whatever is queued (the socket is gone). */
  discard(): void {
    this.chunks = [];
    this.queuedBytes = 0;
  }
}

function flushBatch(batcher: WriteBatcher): void {
  batcher.flush();
}
