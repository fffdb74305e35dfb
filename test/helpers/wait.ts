// Waiting helpers for tests: wait for an event or a WebSocket message with a bounded timeout, so a
// test never sleeps in place of an event and never hangs when the event does not come.

import type { EventEmitter } from 'node:events';
import type { WebSocketConnection } from '../../lib/websocket/index.ts';

/** A safety net, not an assertion: generous enough for a loaded two-core CI machine. */
export const DEFAULT_WAIT_MS = 10_000;

/** Resolve with the arguments of the next `event` on `emitter`; reject after `timeoutMs`. */
export function waitFor<Arguments extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, timeoutMs = DEFAULT_WAIT_MS): Promise<Arguments> {
  return new Promise((resolve, reject) => {
    const listener = (...values: unknown[]): void => {
      clearTimeout(timer);
      resolve(values as Arguments);
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
  /** The data as UTF-8 text (handy for text messages). */
  text: string;
}

/** The next message on a connection; rejects on timeout or when the connection closes first. */
export function nextMessage(connection: WebSocketConnection, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      connection.removeListener('message', onMessage);
      connection.removeListener('close', onClose);
    };
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      cleanup();
      resolve({ data, isBinary, text: data.toString('utf8') });
    };
    const onClose = (code: number, reason: string): void => {
      cleanup();
      reject(new Error(`connection closed (${code} ${reason}) before a message arrived`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a message`));
    }, timeoutMs);
    connection.on('message', onMessage);
    connection.on('close', onClose);
  });
}

/** The next close event of a connection, as { code, reason, wasClean }. */
export function closed(connection: WebSocketConnection, timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return waitFor<[number, string, boolean]>(connection, 'close', timeoutMs).then(([code, reason, wasClean]) => ({ code, reason, wasClean }));
}

/** Poll a condition on every turn of the event loop until it holds; reject after `timeoutMs`. */
export function until(condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setImmediate(check);
    };
    check();
  });
}
