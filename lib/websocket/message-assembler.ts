// Message assembly: RFC 6455 §5.4 (fragmentation). Collects the payload pieces of one message —
// across frames and across TCP chunks — into a single buffer, within a size limit.
//
// Speed and memory: a message that arrives as one piece is delivered as a view, never copied. Otherwise
// the pieces are copied into one buffer sized from the frame header (or grown by doubling for a
// fragmented message), so a stream of tiny fragments can never pin thousands of large socket chunks.

export class MessageAssembler {
  private firstPiece: Buffer | undefined;
  private buffer: Buffer | undefined;
  private length = 0;

  /** `maxBytes` caps the buffer's growth: doubling never allocates past the message size limit. */
  constructor(private readonly maxBytes = Number.MAX_SAFE_INTEGER) {}

  get byteLength(): number {
    return this.length;
  }

  /** Bytes this assembler keeps alive: its buffer's capacity, or the view it holds. */
  get retainedBytes(): number {
    return this.buffer?.length ?? this.firstPiece?.length ?? 0;
  }

  /**
   * Make room for `upcoming` more bytes that are certain to come (a frame header announced them),
   * so a large frame split across chunks is copied once into a buffer of the right size.
   */
  reserve(upcoming: number): void {
    const needed = this.length + upcoming;
    if (this.buffer !== undefined && this.buffer.length >= needed) return;
    if (this.buffer === undefined && this.length === 0) return; // decided when the first piece arrives
    this.grow(needed);
  }

  /** Add a piece. `expectedTotal` is a hint of the message's final size (0 when unknown). */
  append(piece: Buffer, expectedTotal: number): void {
    if (piece.length === 0) return;
    if (this.length === 0 && this.buffer === undefined && piece.length >= expectedTotal) {
      this.firstPiece = piece; // the whole message in one piece: keep the view
      this.length = piece.length;
      return;
    }
    const needed = this.length + piece.length;
    if (this.buffer === undefined || this.buffer.length < needed) this.grow(Math.max(needed, expectedTotal));
    piece.copy(this.buffer!, this.length);
    this.length = needed;
  }

  /** The message so far, and reset for the next one. */
  take(): Buffer {
    let message: Buffer;
    if (this.buffer !== undefined) message = this.buffer.subarray(0, this.length);
    else if (this.firstPiece !== undefined) message = this.firstPiece;
    else message = EMPTY;
    this.firstPiece = undefined;
    this.buffer = undefined;
    this.length = 0;
    return message;
  }

  private grow(minimum: number): void {
    const capacity = Math.max(minimum, Math.min(Math.max((this.buffer?.length ?? 0) * 2, 256), this.maxBytes));
    const next = Buffer.allocUnsafe(capacity);
    if (this.buffer !== undefined) this.buffer.copy(next, 0, 0, this.length);
    else if (this.firstPiece !== undefined) this.firstPiece.copy(next, 0);
    this.firstPiece = undefined;
    this.buffer = next;
  }
}

const EMPTY = Buffer.alloc(0);
