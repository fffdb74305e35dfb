// The solver's side of one conversation, without I/O: reads each server line with the time it
// arrived, says what to answer, and keeps what a log needs. Times are in milliseconds of one
// monotonic clock; `timeScale` maps them to service milliseconds when the stand-in runs faster.

import { nearestInterval } from './intervals.ts';

export type ServerLine =
  | { kind: 'hello'; text: string }
  | { kind: 'ping'; round: number; sincePreviousMs: number; measuredMs: number; answer: number }
  | { kind: 'good' }
  | { kind: 'secret'; secret: string }
  | { kind: 'failure'; text: string }
  | { kind: 'other'; text: string };

const SECRET = /^congratulations!.*"([^"]*)"/;
/** How many recent delays the median is taken over: enough to outvote one late message, few enough to follow a drift. */
const DELAY_WINDOW = 5;

/**
 * Why not simply time each ping from the previous one: a ping that arrives late (network, a GC pause
 * on either side) makes its own interval look long AND the next one short, so one delay costs two
 * rounds their margin. Instead the answerer keeps the server's schedule — the opening plus every
 * interval decoded so far — and the typical delay between that schedule and an arrival (the median
 * of the last few). A ping is timed from where the previous one was due plus that typical delay, so a
 * single late or early ping disturbs only its own reading.
 */
export class PingAnswerer {
  #lastArrivalAt: number;
  /** When the previous ping was due by the server's schedule, on our clock (before any delay). */
  #lastDueAt: number;
  /** Recent arrival-minus-due delays, newest last; the 101 itself defines the schedule, delay 0. */
  #delays: number[] = [0];
  #pings = 0;

  /**
   * `openedAt` is when the 101 arrived: the server starts its clock when it sends the 101, and the
   * 101 travels to us like the pings do, so the schedule is anchored with the same delay.
   */
  constructor(openedAt: number, private readonly timeScale = 1) {
    this.#lastArrivalAt = openedAt;
    this.#lastDueAt = openedAt;
  }

  /** Read one text message that arrived at `now`. For a ping, `answer` is what to send, at once. */
  read(text: string, now: number): ServerLine {
    if (text === 'ping!') return this.#ping(now);
    if (text === 'good!') return { kind: 'good' };
    if (text.startsWith('hello!')) return { kind: 'hello', text };
    const secret = SECRET.exec(text);
    if (secret) return { kind: 'secret', secret: secret[1]! };
    if (text.startsWith('ouch!')) return { kind: 'failure', text };
    return { kind: 'other', text };
  }

  #ping(now: number): ServerLine {
    const sincePreviousMs = (now - this.#lastArrivalAt) / this.timeScale;
    const measuredMs = (now - this.#lastDueAt - median(this.#delays)) / this.timeScale;
    const answer = nearestInterval(measuredMs);
    this.#lastArrivalAt = now;
    this.#lastDueAt += answer * this.timeScale;
    this.#delays.push(now - this.#lastDueAt);
    if (this.#delays.length > DELAY_WINDOW) this.#delays.shift();
    this.#pings++;
    return { kind: 'ping', round: this.#pings, sincePreviousMs, measuredMs, answer };
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
