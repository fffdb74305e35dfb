// A process-wide cap on zlib work in flight, shared by every connection's compressor and decompressor.
//
// Why: Node's zlib streams run on the libuv threadpool, and each job in flight holds its input and
// output buffers. Thousands of connections compressing at once fragment the C heap until RSS never
// comes back (nodejs/node#8871; ws added the same kind of limit for it, websockets/ws#1202). Queueing
// the jobs in JavaScript instead keeps at most `concurrency` of them in the pool. A slot must be given
// back even when its job is abandoned (a connection closed mid-inflate), or the whole process stalls
// (websockets/ws#1617): `run` hands the job a `done` that is safe to call more than once.

/** ws's figure: a few more than libuv's 4 threads, so the pool never idles while JavaScript queues. */
export const DEFAULT_ZLIB_CONCURRENCY = 10;

export type ZlibJob = (done: () => void) => void;

export class ZlibLimiter {
  private running = 0;
  private readonly waiting: ZlibJob[] = [];
  private head = 0;

  constructor(readonly concurrency = DEFAULT_ZLIB_CONCURRENCY) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`zlib concurrency must be an integer ≥ 1, got ${concurrency}`);
  }

  /** Jobs queued behind the running ones. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  get active(): number {
    return this.running;
  }

  /** Run `job` once fewer than `concurrency` jobs are running; it calls `done` when its zlib work is over. */
  run(job: ZlibJob): void {
    if (this.running < this.concurrency) this.start(job);
    else this.waiting.push(job);
  }

  private start(job: ZlibJob): void {
    this.running++;
    let finished = false;
    job(() => {
      if (finished) return;
      finished = true;
      this.running--;
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.head < this.waiting.length) {
      const job = this.waiting[this.head];
      this.waiting[this.head++] = undefined as unknown as ZlibJob; // let it be collected
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.start(job);
    }
  }
}

let shared: ZlibLimiter | undefined;

/** The limiter every compressor and decompressor uses unless given another. */
export function sharedZlibLimiter(): ZlibLimiter {
  shared ??= new ZlibLimiter();
  return shared;
}

/** Set the process-wide cap (e.g. from a server option) before the first connection compresses. */
export function setZlibConcurrency(concurrency: number): void {
  if (shared !== undefined && (shared.active > 0 || shared.queued > 0)) {
    throw new Error('zlib concurrency cannot change while zlib work is in flight');
  }
  shared = new ZlibLimiter(concurrency);
}
