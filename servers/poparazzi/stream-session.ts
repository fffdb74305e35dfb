// One client's conversation on the Poparazzi stream, without the socket: authentication first, then
// state echoes and view reports, under a message rate limit. Bytes in, a list of actions out
// (messages to send, a close), so every rule is testable with plain Buffers and a hand-moved clock.

import { systemClock, type Clock } from './clock.ts';
import { DEFAULT_MESSAGE_LIMITS, parseClientMessage, type ClientMessage, type MessageLimits } from './messages.ts';
import { ErrorCode, StreamCloseCode, type StreamError } from './stream-codes.ts';
import { TokenBucket } from './token-bucket.ts';
import { isPromise, type ImmediateSessions, type ImmediateViewCounter, type MaybePromise, type Sessions, type ViewCounter } from './stores.ts';
import type { IgnoredReason } from './view-ledger.ts';

export type StreamAction =
  | { type: 'send'; message: Record<string, unknown> }
  | { type: 'close'; code: number; reason: string };

export interface RateLimit {
  /** Messages a client may send in a burst. */
  burst: number;
  /** Messages per second once the burst is spent. */
  perSecond: number;
  /** Messages refused for the rate (each answered `rate_limited`) before the connection is closed with 1008. */
  maxRefusals: number;
  /** One refusal is forgiven per this many milliseconds, so an occasional burst is never fatal. */
  refusalForgivenessMs: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({
  burst: 20,
  perSecond: 5,
  maxRefusals: 10,
  refusalForgivenessMs: 10_000,
});

/**
 * `Later` is true over stores that may answer later (the shared mode's Redis stores): receive() may then
 * return a promise. Over SessionStore and ViewLedger (the default) it always answers at once.
 */
export interface StreamDependencies<Later extends boolean = false> {
  sessions: Later extends true ? Sessions : ImmediateSessions;
  ledger: Later extends true ? ViewCounter : ImmediateViewCounter;
  limits?: MessageLimits;
  rateLimit?: RateLimit;
  clock?: Clock;
}

export type StreamPhase = 'awaiting_authentication' | 'authenticated' | 'closed';

function errorMessage(error: StreamError): Record<string, unknown> {
  return { error };
}

function sendError(code: ErrorCode, message: string): StreamAction {
  return { type: 'send', message: errorMessage({ code, message }) };
}

export type StreamAnswer<Later extends boolean> = Later extends true ? MaybePromise<StreamAction[]> : StreamAction[];

export class StreamSession<Later extends boolean = false> {
  phase: StreamPhase = 'awaiting_authentication';
  /** The session's user once authenticated. */
  userId: string | undefined;

  readonly #sessions: Sessions;
  readonly #ledger: ViewCounter;
  readonly #limits: MessageLimits;
  readonly #messages: TokenBucket;
  /** Refusals left before the close: a bucket of its own, refilled slowly. */
  readonly #refusals: TokenBucket;

  constructor(dependencies: StreamDependencies<Later>) {
    this.#sessions = dependencies.sessions;
    this.#ledger = dependencies.ledger;
    this.#limits = dependencies.limits ?? DEFAULT_MESSAGE_LIMITS;
    const rateLimit = dependencies.rateLimit ?? DEFAULT_RATE_LIMIT;
    const clock = dependencies.clock ?? systemClock;
    this.#messages = new TokenBucket(rateLimit.burst, rateLimit.perSecond, clock);
    this.#refusals = new TokenBucket(rateLimit.maxRefusals, 1000 / rateLimit.refusalForgivenessMs, clock);
  }

  /**
   * Handle one received WebSocket message. With a shared store the answer may come later: the caller
   * hands the next message in only once it has (server.ts keeps them in order).
   */
  receive(data: Buffer, isBinary: boolean): StreamAnswer<Later> {
    // Immediate stores never produce a promise, which is what StreamAnswer<false> says.
    return this.#receive(data, isBinary) as StreamAnswer<Later>;
  }

  #receive(data: Buffer, isBinary: boolean): MaybePromise<StreamAction[]> {
    if (this.phase === 'closed') return [];
    if (!this.#messages.take()) return this.#refuseForRate();
    if (isBinary) return this.#reject({ code: ErrorCode.BinaryNotSupported, message: 'messages are JSON text; binary frames are not understood' });
    const result = parseClientMessage(data, this.#limits);
    if (!result.ok) return this.#reject(result.error);
    return this.phase === 'authenticated' ? this.#handle(result.message) : this.#authenticate(result.message);
  }

  /** The authentication deadline passed; harmless once authenticated. */
  authenticationTimedOut(): StreamAction[] {
    if (this.phase !== 'awaiting_authentication') return [];
    return this.#close(StreamCloseCode.AuthenticationTimeout, 'authentication timed out');
  }

  #authenticate(message: ClientMessage): MaybePromise<StreamAction[]> {
    if (message.type !== 'authorization') {
      return [
        sendError(ErrorCode.NotAuthenticated, `authenticate first: send {"authorization":"Bearer <token>"} before ${message.type}`),
        ...this.#close(StreamCloseCode.NotAuthenticated, 'not authenticated'),
      ];
    }
    const userId = typeof message.authorization === 'string' ? this.#sessions.authenticate(message.authorization) : undefined;
    return isPromise(userId) ? userId.then((found) => this.#authenticated(found)) : this.#authenticated(userId);
  }

  #authenticated(userId: string | undefined): StreamAction[] {
    if (userId === undefined) {
      return [{ type: 'send', message: { authenticated: false } }, ...this.#close(StreamCloseCode.AuthenticationFailed, 'authentication failed')];
    }
    this.userId = userId;
    this.phase = 'authenticated';
    return [{ type: 'send', message: { authenticated: true } }];
  }

  #handle(message: ClientMessage): MaybePromise<StreamAction[]> {
    switch (message.type) {
      case 'authorization':
        return [sendError(ErrorCode.AlreadyAuthenticated, 'this stream is already authenticated')];
      case 'state':
        return [{ type: 'send', message: { state: { user_id: this.userId, active_group_id: message.activeGroupId, is_typing: message.isTyping } } }];
      case 'view_counts':
        return this.#recordViews(message.reports);
    }
  }

  /** `{"view_counts":true}` exactly when every view counted; otherwise the ignored posts are named with the reason. */
  #recordViews(reports: { key: string; postId: string }[]): MaybePromise<StreamAction[]> {
    const outcomes = this.#ledger.record(this.userId!, reports.map((report) => report.postId));
    const answer = (settled: (IgnoredReason | undefined)[]): StreamAction[] => [{ type: 'send', message: viewCountsAnswer(reports, settled) }];
    return isPromise(outcomes) ? outcomes.then(answer) : answer(outcomes);
  }

  /** A bad message: before authentication it ends the stream, after it the client may carry on. */
  #reject(error: StreamError): StreamAction[] {
    const answer: StreamAction = { type: 'send', message: errorMessage(error) };
    if (this.phase === 'authenticated') return [answer];
    return [answer, ...this.#close(StreamCloseCode.NotAuthenticated, 'not authenticated')];
  }

  #refuseForRate(): StreamAction[] {
    if (!this.#refusals.take()) return this.#close(StreamCloseCode.RateLimitAbuse, 'message rate limit exceeded');
    return [sendError(ErrorCode.RateLimited, 'too many messages: this one was dropped, slow down')];
  }

  #close(code: number, reason: string): StreamAction[] {
    this.phase = 'closed';
    return [{ type: 'close', code, reason }];
  }
}

/** `{"view_counts":true}` exactly when every view counted; otherwise the ignored posts are named with the reason. */
function viewCountsAnswer(reports: { key: string }[], outcomes: (IgnoredReason | undefined)[]): Record<string, unknown> {
  const ignored: Record<string, string> = Object.create(null);
  let ignoredCount = 0;
  outcomes.forEach((reason, index) => {
    if (reason === undefined) return;
    ignored[reports[index]!.key] = reason;
    ignoredCount += 1;
  });
  return ignoredCount === 0 ? { view_counts: true } : { view_counts: true, ignored };
}
