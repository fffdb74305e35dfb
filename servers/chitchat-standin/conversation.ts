// One chit-chat conversation as a state machine without I/O: the ping schedule, the verdict on each
// answer, and the lines to say. Time comes in as a number (milliseconds on any monotonic clock), so
// tests drive it with a fake clock; the WebSocket adapter (connection.ts) owns the real timer.

import { CloseCodes, congratulations, GOOD, HELLO, MISSED_BEAT, PING, PING_INTERVALS_MS, unexpectedAnswer, wrongAnswer } from './script.ts';
import { pick, type RandomSource } from './seeded-random.ts';

export interface ConversationSettings {
  /** Correct answers needed for the secret. */
  rounds: number;
  /** Wall-clock milliseconds per service millisecond: 0.1 runs the conversation ten times faster. */
  timeScale: number;
  /** Each ping is delivered up to this many service milliseconds early or late (uniform in ±jitterMs). */
  jitterMs: number;
  random: RandomSource;
  secret: string;
}

/** What the adapter must do, in order. */
export type Instruction = { kind: 'send'; text: string } | { kind: 'close'; code: number; reason: string };

export type Outcome = 'talking' | 'passed' | 'failed';

/** A ping the conversation has chosen but not yet sent. */
interface UpcomingPing {
  intervalMs: number;
  /** When the server means to send it: the schedule runs on these, unaffected by jitter. */
  intendedAt: number;
  /** When it actually goes out: intendedAt shifted by jitter, as a network would shift it. */
  deliverAt: number;
}

export class Conversation {
  #outcome: Outcome = 'talking';
  #opened = false;
  #correctAnswers = 0;
  #upcoming: UpcomingPing | undefined;
  /** The interval of the ping sent last, while it waits for its answer. */
  #unansweredIntervalMs: number | undefined;
  #lastDeliveredAt = 0;

  constructor(private readonly settings: ConversationSettings) {}

  get outcome(): Outcome {
    return this.#outcome;
  }

  get correctAnswers(): number {
    return this.#correctAnswers;
  }

  /** When the adapter should call `advance` next; undefined once the conversation is over. */
  get wakeAt(): number | undefined {
    return this.#outcome === 'talking' ? this.#upcoming?.deliverAt : undefined;
  }

  /** The connection opened at `now`: the first interval counts from here. */
  open(now: number): Instruction[] {
    if (this.#opened) return [];
    this.#opened = true;
    this.#lastDeliveredAt = now;
    this.#upcoming = this.#schedulePingAfter(now);
    return [{ kind: 'send', text: HELLO }];
  }

  /** Send every ping that is due by `now`; a ping due while the previous one is unanswered ends the conversation. */
  advance(now: number): Instruction[] {
    const instructions: Instruction[] = [];
    while (this.#outcome === 'talking' && this.#upcoming !== undefined && this.#upcoming.deliverAt <= now) {
      if (this.#unansweredIntervalMs !== undefined) return [...instructions, ...this.#fail(MISSED_BEAT, CloseCodes.MissedBeat, 'missed a beat')];
      const ping = this.#upcoming;
      this.#unansweredIntervalMs = ping.intervalMs;
      this.#lastDeliveredAt = ping.deliverAt;
      this.#upcoming = this.#schedulePingAfter(ping.intendedAt);
      instructions.push({ kind: 'send', text: PING });
    }
    return instructions;
  }

  /**
   * A text message from the client. No clock needed: the deadline is the next ping *going out*, so an
   * answer read before the adapter calls `advance` counts, even when the server itself is running late.
   */
  receive(text: string): Instruction[] {
    const instructions: Instruction[] = [];
    if (this.#outcome !== 'talking') return instructions;
    const answer = text.trim();
    const intervalMs = this.#unansweredIntervalMs;
    if (intervalMs === undefined) {
      return [...instructions, ...this.#fail(unexpectedAnswer(answer), CloseCodes.UnexpectedAnswer, 'no ping to answer')];
    }
    if (!/^\d{1,12}$/.test(answer) || Number(answer) !== intervalMs) {
      return [...instructions, ...this.#fail(wrongAnswer(intervalMs, answer), CloseCodes.WrongAnswer, 'wrong interval')];
    }
    this.#unansweredIntervalMs = undefined;
    this.#correctAnswers++;
    instructions.push({ kind: 'send', text: GOOD });
    if (this.#correctAnswers >= this.settings.rounds) {
      this.#outcome = 'passed';
      instructions.push({ kind: 'send', text: congratulations(this.settings.secret) });
      instructions.push({ kind: 'close', code: CloseCodes.Finished, reason: 'conversation complete' });
    }
    return instructions;
  }

  /** The answers are numbers in text; a binary message is a client that misunderstood the protocol. */
  receiveBinary(): Instruction[] {
    if (this.#outcome !== 'talking') return [];
    this.#outcome = 'failed';
    return [{ kind: 'close', code: CloseCodes.BinaryMessage, reason: 'answers are text messages, e.g. "700"' }];
  }

  /** The socket went away (or the server is shutting down): nothing more will be said. */
  abandon(): void {
    if (this.#outcome === 'talking') this.#outcome = 'failed';
  }

  #fail(text: string, code: number, reason: string): Instruction[] {
    this.#outcome = 'failed';
    return [{ kind: 'send', text }, { kind: 'close', code, reason }];
  }

  /** Choose the next interval; it counts from the previous ping's intended time (or the opening). */
  #schedulePingAfter(start: number): UpcomingPing {
    const { random, timeScale, jitterMs } = this.settings;
    const intervalMs = pick(random, PING_INTERVALS_MS);
    const intendedAt = start + intervalMs * timeScale;
    const jitter = (random() * 2 - 1) * jitterMs * timeScale;
    // Jitter may move a ping earlier, but never before the one sent last.
    const deliverAt = Math.max(intendedAt + jitter, this.#lastDeliveredAt);
    return { intervalMs, intendedAt, deliverAt };
  }
}
