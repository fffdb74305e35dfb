// The stand-in's two kinds of connection. Both can prove delivery: a WebSocket ping (RFC 6455 §5.5.2)
// sent after some messages comes back as a pong only once the client has read everything before it.
// A team link also keeps the delivery ledger of its `message` events; the global link, its events.

import { ReadyState, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { DeliveryLedger, type Counts } from './ledger.ts';
import { mentionsProps } from './texts.ts';

interface Waiter {
  resolve: (acknowledged: boolean) => void;
  timer: NodeJS.Timeout;
  onAcknowledged: (() => void) | undefined;
}

/** Ping/pong round trips on one connection; a peer that does not answer in time is cut. */
export class RoundTrips {
  private readonly waiting = new Map<string, Waiter>();
  private nextNumber = 1;

  constructor(private readonly connection: WebSocketConnection) {
    connection.on('pong', (payload) => this.onPong(payload.toString('latin1')));
    connection.once('close', () => this.failAll());
  }

  /** Resolves true once the pong is back (after running `onAcknowledged`), false if the connection died first. */
  roundTrip(timeoutMs: number, onAcknowledged?: () => void): Promise<boolean> {
    if (this.connection.readyState !== ReadyState.Open) return Promise.resolve(false);
    const payload = `round-trip-${this.nextNumber++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(payload);
        resolve(false);
        this.connection.terminate();
      }, timeoutMs);
      this.waiting.set(payload, { resolve, timer, onAcknowledged });
      this.connection.ping(payload);
    });
  }

  private onPong(payload: string): void {
    const waiter = this.waiting.get(payload);
    if (waiter === undefined) return;
    this.waiting.delete(payload);
    clearTimeout(waiter.timer);
    // Synchronously, inside the pong event: no close can slip in between the pong and the bookkeeping.
    waiter.onAcknowledged?.();
    waiter.resolve(true);
  }

  private failAll(): void {
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiting.clear();
  }
}

export class TeamLink {
  readonly ledger = new DeliveryLedger();
  readonly roundTrips: RoundTrips;
  /** The first round trip is done: the client is reading this connection, messages may flow. */
  ready = false;
  /** No more messages: the link is about to be dropped, replaced or told that the team left. */
  draining = false;
  /** The "silent" fault: no messages, no pongs, until the client gives up on the link. */
  silent = false;

  constructor(readonly teamId: number, readonly connection: WebSocketConnection) {
    this.roundTrips = new RoundTrips(connection);
  }

  get open(): boolean {
    return this.connection.readyState === ReadyState.Open;
  }

  get carriesMessages(): boolean {
    return this.open && this.ready && !this.draining && !this.silent;
  }

  send(message: object): void {
    this.connection.send(JSON.stringify(message));
  }

  sendMessage(text: string): void {
    this.send({ type: 'message', text });
    this.ledger.recordSent(mentionsProps(text));
  }

  /** Make every message sent so far acknowledged (or in doubt, if the link dies); `onDelivered` gets what was confirmed. */
  settle(timeoutMs: number, onDelivered: (newlyDelivered: Counts) => void): Promise<boolean> {
    if (this.ledger.settled) return Promise.resolve(this.open);
    const checkpoint = this.ledger.checkpoint();
    return this.roundTrips.roundTrip(timeoutMs, () => onDelivered(this.ledger.acknowledge(checkpoint)));
  }
}

/** The events the Global connection must deliver to the client, exactly as the seed names them. */
export type GlobalEvent = { type: 'team.join' | 'team.left'; team_id: number };

/** The events the Global connection must deliver (team.join, team.left), each kept until acknowledged. */
export class GlobalLink {
  readonly roundTrips: RoundTrips;
  /** The first round trip is done: events sent from now on cannot be lost in the opening handshake. */
  ready = false;
  private readonly unacknowledged: { sequence: number; message: GlobalEvent }[] = [];
  private nextSequence = 1;

  constructor(readonly connection: WebSocketConnection) {
    this.roundTrips = new RoundTrips(connection);
  }

  get open(): boolean {
    return this.connection.readyState === ReadyState.Open;
  }

  send(message: object): void {
    this.connection.send(JSON.stringify(message));
  }

  /** Send an event that must reach the client; if this connection dies first, it is handed to the next one. */
  sendTracked(message: GlobalEvent): void {
    this.send(message);
    this.unacknowledged.push({ sequence: this.nextSequence++, message });
  }

  settle(timeoutMs: number, onDelivered: (messages: GlobalEvent[]) => void): Promise<boolean> {
    if (this.unacknowledged.length === 0) return Promise.resolve(this.open);
    const upTo = this.nextSequence - 1;
    return this.roundTrips.roundTrip(timeoutMs, () => {
      let count = 0;
      while (count < this.unacknowledged.length && this.unacknowledged[count]!.sequence <= upTo) count++;
      onDelivered(this.unacknowledged.splice(0, count).map((entry) => entry.message));
    });
  }

  /** What was never acknowledged, in order: to be sent again on the next Global connection. */
  takeUnacknowledged(): GlobalEvent[] {
    return this.unacknowledged.splice(0).map((entry) => entry.message);
  }
}
