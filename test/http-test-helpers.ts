// Shared helpers for the test/http-*.test.ts files: bounded waits and a tiny client that reads raw HTTP responses.
// Nothing here sleeps: every wait is for an event, with a timeout that fails the test instead of hanging it.
// The timeouts are safety nets, sized for a loaded two-core CI machine, not limits being tested.
import * as net from 'node:net';

const WAIT_MS = 10_000;

/** Reject with a clear message if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A loopback TCP client that parses the server's responses (status line, headers, Content-Length body). */
export class RawClient {
  readonly socket: net.Socket;
  #received = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  ended = false;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  static async connect(port: number): Promise<RawClient> {
    const client = new RawClient(port);
    await within(new Promise<void>((resolve) => client.socket.once('connect', () => resolve())), WAIT_MS, 'connect');
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #nextChange(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Read one response; `headOnly` for answers to HEAD (Content-Length present, no body follows). */
  async readResponse(options: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; this.#wake(); }, options.timeoutMs ?? WAIT_MS);
    try {
      for (;;) {
        if (timedOut) throw new Error(`timed out waiting for a response (${this.#received.length} bytes buffered)`);
        const headEnd = this.#received.indexOf('\r\n\r\n');
        if (headEnd !== -1) {
          const lines = this.#received.subarray(0, headEnd).toString('latin1').split('\r\n');
          const status = Number(lines[0]!.split(' ')[1]);
          const headers: Record<string, string> = {};
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(':');
            headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
          }
          const length = options.headOnly || status === 204 || status === 304 || status < 200 ? 0 : Number(headers['content-length'] ?? 0);
          if (this.#received.length >= headEnd + 4 + length) {
            const body = this.#received.subarray(headEnd + 4, headEnd + 4 + length);
            this.#received = this.#received.subarray(headEnd + 4 + length);
            return { status, headers, body };
          }
        }
        if (this.ended) throw new Error(`connection ended before a complete response (${this.#received.length} bytes buffered)`);
        await this.#nextChange();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Bytes received and not yet consumed by readResponse(). */
  get leftover(): Buffer {
    return this.#received;
  }

  /** Wait until the server closes its side. */
  async waitForEnd(timeoutMs = WAIT_MS): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; this.#wake(); }, timeoutMs);
    try {
      while (!this.ended) {
        if (timedOut) throw new Error('timed out waiting for the server to close the connection');
        await this.#nextChange();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Deterministic PRNG (mulberry32) so fuzz failures can be replayed from the seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Run `work` with console.error captured, so expected failure logs neither clutter the output nor go unchecked. */
export async function quietly<T>(work: () => Promise<T>): Promise<{ result: T; logged: string[] }> {
  const original = console.error;
  const logged: string[] = [];
  console.error = (...args: unknown[]) => { logged.push(args.join(' ')); };
  try {
    return { result: await work(), logged };
  } finally {
    console.error = original;
  }
}
