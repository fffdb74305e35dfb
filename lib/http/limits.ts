// The bounds every HTTP/1.1 connection lives within, and the status code a client gets for crossing each one.
// RFC 9112 §3 (414 for long request lines), RFC 6585 §5 (431), RFC 9110 §15.5.14 (413), §15.5.9 (408).

export interface HttpLimits {
  /** Request line (method, target, version) longer than this → 414 URI Too Long. */
  maxRequestLineBytes: number;
  /** Header section (or trailer section) larger than this → 431 Request Header Fields Too Large. */
  maxHeaderBytes: number;
  /** More header fields than this → 431. */
  maxHeaderCount: number;
  /** Body larger than this, announced or received → 413 Content Too Large. */
  maxBodyBytes: number;
  /** A chunk-size line (size plus extensions) longer than this → 400; extensions are skipped, not stored. */
  maxChunkLineBytes: number;
}

export const DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_HEADER_COUNT = 100;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CHUNK_LINE_BYTES = 4 * 1024;

export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxRequestLineBytes: DEFAULT_MAX_REQUEST_LINE_BYTES,
  maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES,
  maxHeaderCount: DEFAULT_MAX_HEADER_COUNT,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxChunkLineBytes: DEFAULT_MAX_CHUNK_LINE_BYTES,
});

export interface HttpTimeouts {
  /** A request must arrive completely within this many ms of its first byte, or the client gets 408 (slowloris). */
  requestTimeoutMs: number;
  /** A keep-alive connection with nothing in flight is closed after this many idle ms. */
  keepAliveTimeoutMs: number;
  /**
   * A connection whose response bytes make no progress to the client for this many ms is destroyed. A slow
   * client that keeps reading is never cut off; one that stopped reading does not hold its response forever.
   */
  sendTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;

export const DEFAULT_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
});
