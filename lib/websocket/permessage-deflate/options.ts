// The options of permessage-deflate (RFC 7692) and their defaults: what an endpoint is willing to
// negotiate (§7.1) and how it compresses locally (level, memLevel, threshold — never on the wire).
//
// The user-facing option is `perMessageDeflate: boolean | PerMessageDeflateOptions` on both the server
// and the client, as in ws: `true` means the defaults below, an object overrides some of them.
//
// Memory is the cost that matters (zlib's own figures, per connection that has sent or received):
//   deflate state ≈ 2^(windowBits+2) + 2^(memLevel+9) bytes   → 256 KiB at windowBits 15, memLevel 8
//   inflate state ≈ 2^windowBits + 7 KiB                        →  39 KiB at windowBits 15
// The defaults are ws's (window 15, memLevel 8, level 6, threshold 1 KiB), so the two libraries compress
// alike and compare fairly; a server with many connections lowers serverMaxWindowBits and memLevel
// (python-websockets picks 12 and 5: ≈ 32 KiB of deflate state) or turns off context takeover, which
// lets each zlib object be freed as soon as a message is done.

import { MAX_WINDOW_BITS, MIN_WINDOW_BITS } from './constants.ts';

export interface PerMessageDeflateOptions {
  /**
   * The server resets its compressor after each message (RFC 7692 §7.1.1.1). Costs compression ratio,
   * saves the server's deflate state between messages. Server: answered even if not offered. Client:
   * asked for in the offer. Default false.
   */
  serverNoContextTakeover?: boolean;
  /**
   * The client resets its compressor after each message (§7.1.1.2). Server: answered even if not
   * offered, so it can free its inflate state between messages. Client: offered. Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Largest LZ77 window, 8–15, the server compresses with (§7.1.2.1). Server: it answers the smaller of
   * this and the offer's value. Client: asked for in the offer. Default: unset (15, nothing asked).
   */
  serverMaxWindowBits?: number;
  /**
   * Largest window, 8–15, the client compresses with (§7.1.2.2). Server: answered when the client
   * announced support (a client that did not cannot be limited and keeps 15). Client: offered as its
   * own limit. Default: unset — a client offers `client_max_window_bits` without a value, as browsers
   * do, letting the server choose.
   */
  clientMaxWindowBits?: number;
  /** Messages shorter than this many bytes go out uncompressed: too small to gain. Default 1024 (ws's). */
  threshold?: number;
  /** zlib compression level, 0 (store) to 9 (best). Default 6, zlib's own balance of speed and ratio. */
  level?: number;
  /** zlib memLevel, 1–9: memory for the compressor's hash table, 2^(memLevel+9) bytes. Default 8. */
  memLevel?: number;
}

/** Options with every default filled in; window bits left undefined mean "no preference" (15). */
export interface ResolvedPerMessageDeflateOptions {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | undefined;
  threshold: number;
  level: number;
  memLevel: number;
}

export const DEFAULT_PER_MESSAGE_DEFLATE: ResolvedPerMessageDeflateOptions = Object.freeze({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: undefined,
  clientMaxWindowBits: undefined,
  threshold: 1024,
  level: 6,
  memLevel: 8,
});

function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/**
 * The `perMessageDeflate` option as the application gave it → undefined (off) or the full options.
 * A value out of range is the application's mistake and throws a RangeError at construction time.
 */
export function resolvePerMessageDeflate(
  option: boolean | PerMessageDeflateOptions | undefined,
): ResolvedPerMessageDeflateOptions | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return DEFAULT_PER_MESSAGE_DEFLATE;
  checkInteger('serverMaxWindowBits', option.serverMaxWindowBits, MIN_WINDOW_BITS, MAX_WINDOW_BITS);
  checkInteger('clientMaxWindowBits', option.clientMaxWindowBits, MIN_WINDOW_BITS, MAX_WINDOW_BITS);
  checkInteger('threshold', option.threshold, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('level', option.level, 0, 9);
  checkInteger('memLevel', option.memLevel, 1, 9);
  return {
    serverNoContextTakeover: option.serverNoContextTakeover ?? DEFAULT_PER_MESSAGE_DEFLATE.serverNoContextTakeover,
    clientNoContextTakeover: option.clientNoContextTakeover ?? DEFAULT_PER_MESSAGE_DEFLATE.clientNoContextTakeover,
    serverMaxWindowBits: option.serverMaxWindowBits,
    clientMaxWindowBits: option.clientMaxWindowBits,
    threshold: option.threshold ?? DEFAULT_PER_MESSAGE_DEFLATE.threshold,
    level: option.level ?? DEFAULT_PER_MESSAGE_DEFLATE.level,
    memLevel: option.memLevel ?? DEFAULT_PER_MESSAGE_DEFLATE.memLevel,
  };
}
