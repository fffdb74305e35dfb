// A BATCHAT user for tests over real TCP: everything received is kept as text, and a test waits for
// what it expects (never for a fixed time).

import { once } from 'node:events';
import * as net from 'node:net';
import { DEFAULT_WAIT_MS } from './wait.ts';

export class ChatUser {
  readonly socket: net.Socket;
  #text = '';
  #read = 0;
  #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#text += chunk;
      for (const waiter of this.#waiters) waiter();
    });
    socket.on('close', () => {
      for (const waiter of this.#waiters) waiter();
    });
    socket.on('error', () => {});
  }

  /** Connect and answer the name prompt with `name`; resolves with the user once greeted (or at the prompt with `greet: false`). */
  static async join(port: number, name: string): Promise<ChatUser> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const user = new ChatUser(socket);
    await user.waitFor('press enter: ');
    user.say(name);
    await user.waitFor(`Hey, ${name}!`);
    return user;
  }

  static async connect(port: number): Promise<ChatUser> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const user = new ChatUser(socket);
    await user.waitFor('press enter: ');
    return user;
  }

  say(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Wait for `text` after what was already consumed; returns the line it is in, and consumes up to its end. */
  waitFor(text: string | RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const rest = this.#text.slice(this.#read);
        const match = typeof text === 'string' ? (rest.includes(text) ? { index: rest.indexOf(text), length: text.length } : undefined) : matchOf(text, rest);
        if (match !== undefined) {
          const lineEnd = rest.indexOf('\r\n', match.index + match.length);
          const end = lineEnd === -1 ? rest.length : lineEnd + 2;
          const lineStart = rest.lastIndexOf('\n', match.index) + 1;
          this.#read += end;
          finish();
          resolve(rest.slice(lineStart, end).trimEnd());
        } else if (this.socket.destroyed) {
          finish();
          reject(new Error(`connection closed before ${String(text)}; received ${JSON.stringify(rest)}`));
        }
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${String(text)}; received ${JSON.stringify(this.#text.slice(this.#read))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Ask /who and return the names it lists. */
  async who(): Promise<string[]> {
    this.say('/who');
    const line = await this.waitFor(/\* \d+ in the chat: /);
    return line.replace(/^.*in the chat: /, '').split(', ').filter((name) => name !== '');
  }
}

function matchOf(pattern: RegExp, text: string): { index: number; length: number } | undefined {
  const match = pattern.exec(text);
  return match === null ? undefined : { index: match.index, length: match[0].length };
}
