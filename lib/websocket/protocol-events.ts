// What the sans-I/O core (protocol.ts) found in its input, handed out only after the parse: the events
// of RFC 6455 §6.2 (a message received), §5.5.2–5.5.3 (ping, pong), §7.1.5 (the connection is closed)
// and §7.1.7 (the connection failed).
//
// Why a queue: application code must never run inside the parse loop. If it did, an exception thrown
// by a listener would unwind through the parser and look like a framing error, and a listener that
// closes or sends would re-enter the state machine half-way through a frame. So `receive(chunk)`
// parses the whole chunk and only queues; the adapter then takes the events one by one (the shape of
// python-websockets' `events_received()` and h11's `next_event()`).
//
// Hot path, written for speed on purpose: the records are plain objects of one shape, reused from one
// chunk to the next, so an echo server receiving one message per chunk allocates nothing here.

import type { WebSocketError } from './errors.ts';

export const ProtocolEventKind = {
  /** A whole data message: `data`, `isBinary`; `compressed` when it still needs inflating (RFC 7692). */
  Message: 0,
  /** A ping: `data` is its payload; the pong is already written. */
  Ping: 1,
  /** A pong: `data` is its payload. */
  Pong: 2,
  /** The connection is closed (close handshake done, failed, or transport gone): `close`. Always the last event. */
  Close: 3,
  /** The peer broke a rule; the close frame with `error.closeCode` is already written. A Close follows. */
  Error: 4,
} as const;
export type ProtocolEventKind = (typeof ProtocolEventKind)[keyof typeof ProtocolEventKind];

export interface CloseInfo {
  /** The peer's code (1005 when its close frame had none), or ours when we failed the connection, or 1006. */
  code: number;
  reason: string;
  /** True when both close frames were exchanged (§7.1.4 "the WebSocket Connection is Closed" cleanly). */
  wasClean: boolean;
}

/** One event. The record is reused: read it before asking for the next one. */
export interface ProtocolEvent {
  kind: ProtocolEventKind;
  data: Buffer;
  isBinary: boolean;
  compressed: boolean;
  close: CloseInfo | undefined;
  error: WebSocketError | undefined;
}

/**
 * The parse pauses once this many events wait (protocol.ts), and the records kept for reuse are as many
 * (a failure adds its two events beyond them). A chunk full of tiny frames is parsed in batches of this
 * size, so its events reuse the same records instead of allocating one per frame.
 */
export const EVENT_BATCH = 16;
const KEPT_RECORDS = EVENT_BATCH + 2;

const EMPTY = Buffer.alloc(0);

export class ProtocolEventQueue {
  private readonly records: ProtocolEvent[] = [];
  /** Next record to hand out. */
  private head = 0;
  /** Records in use: [head, tail) are waiting. */
  private tail = 0;

  get isEmpty(): boolean {
    return this.head === this.tail;
  }

  /** A batch of events waits: the parse should pause at the end of the frame (protocol.ts). */
  get isFull(): boolean {
    return this.tail - this.head >= EVENT_BATCH;
  }

  /**
   * Queue a whole message: the hot path, one call per message received. Only the message's fields are
   * written: a record's `close` and `error` are already undefined here, as `clear()` left them.
   */
  pushMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    const record = this.records[this.tail];
    if (record === undefined) {
      this.records.push({ kind: ProtocolEventKind.Message, data, isBinary, compressed, close: undefined, error: undefined });
    } else {
      record.kind = ProtocolEventKind.Message;
      record.data = data;
      record.isBinary = isBinary;
      record.compressed = compressed;
    }
    this.tail++;
  }

  /** Queue any other event: a ping or pong (`data`), a close (`close`), an error (`error`). */
  push(kind: ProtocolEventKind, data: Buffer = EMPTY, close?: CloseInfo, error?: WebSocketError): void {
    const record = this.records[this.tail];
    if (record === undefined) {
      this.records.push({ kind, data, isBinary: false, compressed: false, close, error });
    } else {
      record.kind = kind;
      record.data = data;
      record.isBinary = false;
      record.compressed = false;
      record.close = close;
      record.error = error;
    }
    this.tail++;
  }

  /** The kind of the next event, without taking it. */
  peekKind(): ProtocolEventKind | undefined {
    return this.head < this.tail ? this.records[this.head].kind : undefined;
  }

  /** The next event, or undefined once all are taken (then the records let go of their buffers). */
  shift(): ProtocolEvent | undefined {
    if (this.head < this.tail) return this.records[this.head++];
    if (this.tail !== 0) this.clear();
    return undefined;
  }

  /** Drop every waiting event and release what the records point to. */
  clear(): void {
    for (let index = 0; index < this.tail; index++) {
      const record = this.records[index];
      record.data = EMPTY;
      record.close = undefined;
      record.error = undefined;
    }
    this.head = 0;
    this.tail = 0;
    if (this.records.length > KEPT_RECORDS) this.records.length = KEPT_RECORDS;
  }
}
