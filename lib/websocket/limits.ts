// Default limits of the WebSocket layer. Every buffer has one; each is an option of the connection.
// Exceeding a message limit closes with 1009 (RFC 6455 §7.4.1), a policy limit with 1008.

export const DEFAULT_LIMITS = {
  /** Largest message accepted, all fragments together (exactly this size is accepted). */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Most frames one message may be split into, empty ones included. 4 MiB in 64-byte fragments (65,536) must pass. */
  maxFragments: 131_072,
  /** Largest HTTP header section of an opening handshake. */
  maxHandshakeBytes: 16 * 1024,
  /** Bytes queued for the peer before `send` starts answering false (backpressure). */
  highWaterMark: 1024 * 1024,
  /** Bytes queued for a peer that does not read before the connection is closed with 1008. */
  maxBufferedBytes: 64 * 1024 * 1024,
  /** Opening handshake must finish within this (client side; the HTTP server has its own). */
  handshakeTimeoutMs: 10_000,
  /** After sending a close frame, how long to wait for the peer's close (and TCP close) before cutting. */
  closeTimeoutMs: 5_000,
  /** Open connections per WebSocketServer (and per Router); one more upgrade is answered 503. */
  maxConnections: 10_000,
} as const;
