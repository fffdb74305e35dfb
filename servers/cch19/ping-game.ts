// Day 19, task 1: the table-tennis game played over one WebSocket (no socket in here).
// "serve" starts the game; once started, every "ping" is answered "pong"; anything else, and
// "ping" before "serve", gets no answer at all.

export const SERVE = 'serve';
export const PING = 'ping';
export const PONG = 'pong';

export class PingGame {
  #started = false;

  get started(): boolean {
    return this.#started;
  }

  /** The reply to one incoming message, or undefined for silence. Only text messages take part. */
  receive(data: Buffer | string, isBinary: boolean): string | undefined {
    if (isBinary) return undefined;
    // Both words are 4–5 bytes: anything longer is ignored without decoding it.
    if (data.length > SERVE.length) return undefined;
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (text === SERVE) {
      this.#started = true;
      return undefined;
    }
    if (text === PING && this.#started) return PONG;
    return undefined;
  }
}
