// Close status codes and the close frame body: RFC 6455 §5.5.1 (close frame), §7.4 (status codes).
// Which codes may travel on the wire, and how a close payload is built and checked.

import { isUtf8 } from 'node:buffer';

/** Status codes from RFC 6455 §7.4.1 and the IANA registry (§11.7). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never on the wire. Reported locally when a close frame carried no code (§7.1.5). */
  NoStatusReceived: 1005,
  /** Reserved: never on the wire. Reported locally when TCP closed without a close handshake (§7.1.5). */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
} as const;

/** The longest reason that fits a control frame: 125 payload bytes minus the two-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * May this code appear in a close frame? 1000–1003 and 1007–1014 are defined for use; 3000–3999 are
 * registered for libraries and frameworks, 4000–4999 are private. 1004 (reserved), 1005, 1006 and
 * 1015 (local-only), 0–999, the unassigned 1016–2999 and anything ≥ 5000 are not.
 */
export function isWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface ClosePayload {
  code: number;
  reason: string;
}

/** Why a close payload is unacceptable, and the close code the answer must carry. */
export interface ClosePayloadProblem {
  closeCode: number;
  message: string;
}

/** Parse a received close frame body (§5.5.1): empty, or a 2-byte code followed by a UTF-8 reason. */
export function parseClosePayload(payload: Buffer): ClosePayload | ClosePayloadProblem {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  if (payload.length === 1) {
    return { closeCode: CloseCode.ProtocolError, message: 'close frame payload of 1 byte (a code needs 2)' };
  }
  const code = payload.readUInt16BE(0);
  if (!isWireCloseCode(code)) {
    return { closeCode: CloseCode.ProtocolError, message: `close code ${code} is not allowed on the wire` };
  }
  const reasonBytes = payload.subarray(2);
  if (!isUtf8(reasonBytes)) {
    return { closeCode: CloseCode.InvalidPayload, message: 'close reason is not valid UTF-8' };
  }
  return { code, reason: reasonBytes.toString('utf8') };
}

export function isClosePayloadProblem(value: ClosePayload | ClosePayloadProblem): value is ClosePayloadProblem {
  return 'closeCode' in value;
}

/**
 * Build a close frame body. A code of undefined (or 1005) gives an empty body; a reason longer than
 * 123 bytes is an error of the caller's, reported as a RangeError rather than silently cut.
 */
export function encodeClosePayload(code: number | undefined, reason = ''): Buffer {
  if (code === undefined || code === CloseCode.NoStatusReceived) {
    if (reason !== '') throw new RangeError('a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!isWireCloseCode(code)) throw new RangeError(`close code ${code} may not be sent (RFC 6455 §7.4)`);
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit`);
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

/**
 * Cut a reason to the 123 bytes a close frame can carry, at a UTF-8 character boundary (a cut inside a
 * character would make the peer fail the connection with 1007). Counted in bytes, not characters:
 * 'é' is 2 bytes, '€' 3, '😀' 4.
 */
export function truncateCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  const bytes = Buffer.from(reason, 'utf8');
  let end = MAX_CLOSE_REASON_BYTES;
  while ((bytes[end] & 0xc0) === 0x80) end--; // bytes[end] continues a character: back up to its lead byte
  return bytes.toString('utf8', 0, end);
}
