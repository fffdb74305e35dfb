// The codes the Poparazzi stream answers with: application close codes (RFC 6455 §7.4.2 reserves
// 4000–4999 for private use) and the `code` of `{"error":{"code","message"}}` messages.

export const StreamCloseCode = {
  /** The authorization message named no known session. */
  AuthenticationFailed: 4001,
  /** No authorization message within the configured time. */
  AuthenticationTimeout: 4002,
  /** Something other than an authorization arrived first. */
  NotAuthenticated: 4003,
  /** RFC 6455's Policy Violation: the client kept sending faster than the rate limit after being told. */
  RateLimitAbuse: 1008,
} as const;

export const ErrorCode = {
  InvalidJson: 'invalid_json',
  InvalidMessage: 'invalid_message',
  UnknownMessage: 'unknown_message',
  BinaryNotSupported: 'binary_not_supported',
  MessageTooLarge: 'message_too_large',
  NotAuthenticated: 'not_authenticated',
  AlreadyAuthenticated: 'already_authenticated',
  InvalidState: 'invalid_state',
  InvalidViewCounts: 'invalid_view_counts',
  TooManyEntries: 'too_many_entries',
  RateLimited: 'rate_limited',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface StreamError {
  code: ErrorCode;
  message: string;
  /** For a refused view_counts batch: each offending key and what is wrong with it. */
  entries?: Record<string, string>;
}
