// Incremental UTF-8 validation: RFC 6455 §5.6 and §8.1 (text must be valid UTF-8, RFC 3629).
// The state crosses chunk and fragment boundaries, so an invalid byte fails the connection as soon
// as it arrives — mid-frame, mid-message — instead of after the whole message is buffered.

import { isUtf8 } from 'node:buffer';

/**
 * Validates a byte stream fed in pieces. `push` returns false at the first piece holding an invalid
 * byte; `finish` says whether the stream ended on a character boundary.
 *
 * Hot path: the body of each piece is checked by Node's native `isUtf8` (SIMD); only the few bytes of
 * a character split across pieces go through the small state machine below.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the character in progress (0 = at a boundary). */
  private remaining = 0;
  /** Allowed range of the next byte: the first continuation byte has tighter bounds (§3 of RFC 3629). */
  private lowerBound = 0x80;
  private upperBound = 0xbf;

  reset(): void {
    this.remaining = 0;
    this.lowerBound = 0x80;
    this.upperBound = 0xbf;
  }

  /** True while the bytes so far could still be (a prefix of) valid UTF-8. */
  push(data: Buffer, start = 0, end = data.length): boolean {
    let index = start;
    // 1. Finish a character left open by the previous piece.
    while (this.remaining > 0 && index < end) {
      if (!this.step(data[index])) return false;
      index++;
    }
    if (index === end) return true;
    // 2. Find where the last, possibly incomplete, character of this piece starts.
    const tailStart = incompleteTailStart(data, index, end);
    // 3. Everything before it is whole characters: validate natively.
    if (tailStart > index && !isUtf8(data.subarray(index, tailStart))) return false;
    // 4. Feed the open tail to the state machine; its state carries to the next piece.
    for (let position = tailStart; position < end; position++) {
      if (!this.step(data[position])) return false;
    }
    return true;
  }

  /** True when the stream ends on a character boundary (no half character left open). */
  finish(): boolean {
    const complete = this.remaining === 0;
    this.reset();
    return complete;
  }

  /** One byte through the state machine. */
  private step(byte: number): boolean {
    if (this.remaining === 0) {
      if (byte < 0x80) return true;
      // C0, C1 (overlong two-byte forms) and F5..FF (beyond U+10FFFF) can never start a character.
      if (byte < 0xc2 || byte > 0xf4) return false;
      this.lowerBound = 0x80;
      this.upperBound = 0xbf;
      if (byte < 0xe0) {
        this.remaining = 1;
      } else if (byte < 0xf0) {
        this.remaining = 2;
        if (byte === 0xe0) this.lowerBound = 0xa0; // overlong three-byte forms
        if (byte === 0xed) this.upperBound = 0x9f; // UTF-16 surrogates U+D800..U+DFFF
      } else {
        this.remaining = 3;
        if (byte === 0xf0) this.lowerBound = 0x90; // overlong four-byte forms
        if (byte === 0xf4) this.upperBound = 0x8f; // above U+10FFFF
      }
      return true;
    }
    if (byte < this.lowerBound || byte > this.upperBound) return false;
    this.lowerBound = 0x80;
    this.upperBound = 0xbf;
    this.remaining--;
    return true;
  }
}

/**
 * Index where a trailing character that may continue in the next piece begins, or `end` when the
 * piece ends on a boundary. Looks back at most three bytes (the longest sequence is four).
 */
function incompleteTailStart(data: Buffer, start: number, end: number): number {
  const lowest = Math.max(start, end - 3);
  for (let index = end - 1; index >= lowest; index--) {
    const byte = data[index];
    if (byte < 0x80) return end; // ASCII: boundary right after it
    if (byte >= 0xc0) {
      // A lead byte: is its sequence complete within the piece?
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return index + length > end ? index : end;
    }
    // A continuation byte: keep looking back for its lead.
  }
  return end; // no lead byte in reach: let the native check judge (it will reject stray continuations)
}
