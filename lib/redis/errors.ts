// Errors of the Redis client, in three kinds a caller handles differently:
// - RedisReplyError: the server answered a command with an error reply (RESP2 "Error" type, `-PREFIX message`);
//   the connection is fine, only that command failed.
// - RedisConnectionError: the command never got an answer we can trust (queue full, timeout, connection
//   lost or closed, connect or AUTH failed); `code` says which.
// - RedisProtocolError: the server sent bytes that are not RESP2 (or broke a limit); the connection is reset.

/** An error reply from the server. `prefix` is its first word: 'ERR', 'WRONGTYPE', 'NOSCRIPT', 'NOAUTH', … */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
  readonly prefix: string;
  constructor(message: string) {
    super(message);
    // By convention the first word of an error reply is an upper-case code; "ERR" when the server sent none.
    const space = message.indexOf(' ');
    const word = space === -1 ? message : message.slice(0, space);
    this.prefix = /^[A-Z][A-Z0-9_]*$/.test(word) ? word : 'ERR';
  }
}

export type RedisConnectionErrorCode =
  /** More than `maxQueuedCommands` commands were waiting: the command was refused, never sent. */
  | 'QUEUE_FULL'
  /** No reply within `commandTimeoutMs`. If it had been sent, the connection was reset (it may have run). */
  | 'TIMEOUT'
  /** The client was closed by quit()/disconnect(): the command was never sent. */
  | 'CLOSED'
  /** The connection dropped while the command was in flight: it may or may not have run on the server. */
  | 'CONNECTION_LOST'
  /** Connecting failed (refused, unreachable, TLS, connect timeout). */
  | 'CONNECT_FAILED'
  /** The server refused AUTH, SELECT or CLIENT SETNAME on connect: queued commands fail with this. */
  | 'HANDSHAKE_FAILED'
  /** The URL given to createRedisClient/createRedisSubscriber is not a usable redis:// or rediss:// URL. */
  | 'INVALID_URL';

export class RedisConnectionError extends Error {
  override readonly name = 'RedisConnectionError';
  constructor(
    readonly code: RedisConnectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The reply stream is not valid RESP2, or a reply broke one of the parser's limits. */
export class RedisProtocolError extends Error {
  override readonly name = 'RedisProtocolError';
}
