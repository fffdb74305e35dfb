// A day-19 room member for tests against real `npm start` processes: a `ws` WebSocket on
// /19/ws/room/<room>/user/<name> that records every tweet it receives, and waits for tweets (never for a
// fixed time).

import { WebSocket } from 'ws';
import { DEFAULT_WAIT_MS } from './wait.ts';

export class RoomMember {
  /** Every message received, as text, in order. */
  readonly received: string[] = [];
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  /** The close code, once closed. */
  readonly closed: Promise<number>;
  readonly #waiters = new Set<() => void>();

  constructor(port: number, room: number, readonly name: string) {
    this.socket = new WebSocket(`ws://127.0.0.1:${port}/19/ws/room/${room}/user/${name}`);
    this.socket.on('message', (data) => {
      this.received.push(data.toString());
      for (const waiter of this.#waiters) waiter();
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.opened.catch(() => {});
    this.socket.on('error', () => {}); // a failure shows in `opened` or `closed`
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
  }

  tweet(message: string): void {
    this.socket.send(JSON.stringify({ message }));
  }

  /** Wait until `count` messages have arrived. */
  until(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waitUntil(() => this.received.length >= count, `${count} messages`, timeoutMs);
  }

  /** Wait for a tweet whose message is `message`. */
  heard(message: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waitUntil(() => this.received.some((text) => JSON.parse(text).message === message), JSON.stringify(message), timeoutMs);
  }

  #waitUntil(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last received ${JSON.stringify(this.received.slice(-3))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}
