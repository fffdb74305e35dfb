// One client's conversation on the Poparazzi stream, without the socket: authentication first, then
// state echoes and view reports, under a message rate limit. Bytes in, a list of actions out
// (messages to send, a close), so every rule is testable with plain Buffers and a hand-moved clock.

import { systemClock, type Clock } from './clock.ts';
import { DEFAULT_MESSAGE_LIMITS, parseClientMessage, type ClientMessage, type MessageLimits } from './messages.ts';
import type { SessionStore } from './sessions.ts';
import { ErrorCode, StreamCloseCode, type StreamError } from './stream-codes.ts';
import { TokenBucket } from './token-bucket.ts';
import type { ViewLedger } from './view-ledger.ts';

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

export interface StreamDependencies {
  sessions: SessionStore;
  ledger: ViewLedger;
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

export class StreamSession {
  phase: StreamPhase = 'awaiting_authentication';
  /** The session's user once authenticated. */
  userId: string | undefined;

  readonly #sessions: SessionStore;
  readonly #ledger: ViewLedger;
  readonly #limits: MessageLimits;
  readonly #messages: TokenBucket;
  /** Refusals left before the close: a bucket of its own, refilled slowly. */
  readonly #refusals: TokenBucket;

  constructor(dependencies: StreamDependencies) {
    this.#sessions = dependencies.sessions;
    this.#ledger = dependencies.ledger;
    this.#limits = dependencies.limits ?? DEFAULT_MESSAGE_LIMITS;
    const rateLimit = dependencies.rateLimit ?? DEFAULT_RATE_LIMIT;
    const clock = dependencies.clock ?? systemClock;
    this.#messages = new TokenBucket(rateLimit.burst, rateLimit.perSecond, clock);
    this.#refusals = new TokenBucket(rateLimit.maxRefusals, 1000 / rateLimit.refusalForgivenessMs, clock);
  }

  /** Handle one received WebSocket message. */
  receive(data: Buffer, isBinary: boolean): StreamAction[] {
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

  #authenticate(message: ClientMessage): StreamAction[] {
    if (message.type !== 'authorization') {
      return [
        sendError(ErrorCode.NotAuthenticated, `authenticate first: send {"authorization":"Bearer <token>"} before ${message.type}`),
        ...this.#close(StreamCloseCode.NotAuthenticated, 'not authenticated'),
      ];
    }
    const userId = typeof message.authorization === 'string' ? this.#sessions.authenticate(message.authorization) : undefined;
    if (userId === undefined) {
      return [{ type: 'send', message: { authenticated: false } }, ...this.#close(StreamCloseCode.AuthenticationFailed, 'authentication failed')];
    }
    this.userId = userId;
    this.phase = 'authenticated';
    return [{ type: 'send', message: { authenticated: true } }];
  }

  #handle(message: ClientMessage): StreamAction[] {
    switch (message.type) {
      case 'authorization':
        return [sendError(ErrorCode.AlreadyAuthenticated, 'this stream is already authenticated')];
      case 'state':
        return [{ type: 'send', message: { state: { user_id: this.userId, active_group_id: message.activeGroupId, is_typing: message.isTyping } } }];
      case 'view_counts':
        return [{ type: 'send', message: this.#recordViews(message.reports) }];
    }
  }

  /** `{"view_counts":true}` exactly when every view counted; otherwise the ignored posts are named with the reason. */
  #recordViews(reports: { key: string; postId: string }[]): Record<string, unknown> {
    const outcomes = this.#ledger.record(this.userId!, reports.map((report) => report.postId));
    const ignored: Record<string, string> = Object.create(null);
    let ignoredCount = 0;
    outcomes.forEach((reason, index) => {
      if (reason === undefined) return;
      ignored[reports[index]!.key] = reason;
      ignoredCount += 1;
    });
    return ignoredCount === 0 ? { view_counts: true } : { view_counts: true, ignored };
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
