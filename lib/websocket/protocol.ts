// The WebSocket protocol state machine, sans I/O: RFC 6455 §5 (data framing: fragmentation §5.4,
// control frames §5.5, data frames §5.6), §7 (closing the connection) and §8 (error handling).
// Bytes go in through `receive`, which parses the whole chunk and queues what it found — messages,
// pings, pongs, closes, errors — to be taken with `nextEvent()` (protocol-events.ts says why). Bytes for
// the peer go out through `output.write`: what the application sends at once, what the core owes the
// peer (pongs, close answers) as the event that calls for it is handed out, so output keeps the order
// of input. No sockets, no timers and no application code here: the adapter owns those.

import { CloseCode, encodeClosePayload, isClosePayloadProblem, parseClosePayload, truncateCloseReason } from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { encodeFrame, RSV1_FLAG } from './frame-encoder.ts';
import { FrameParser, type FrameHeader, type FrameSink } from './frame-parser.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { MaskKeySource } from './mask.ts';
import { MessageAssembler } from './message-assembler.ts';
import { Opcode, MAX_CONTROL_PAYLOAD } from './opcodes.ts';
import { ProtocolEventKind, ProtocolEventQueue, type CloseInfo, type ProtocolEvent } from './protocol-events.ts';
import { Utf8Validator } from './utf8.ts';

export { ProtocolEventKind, type CloseInfo, type ProtocolEvent };

export type Role = 'server' | 'client';

/** Where the protocol stands in the close handshake (§7). The opening handshake is the adapter's. */
export const ProtocolState = {
  Open: 'open',
  /** We sent a close frame and wait for the peer's. */
  Closing: 'closing',
  /** Both closes exchanged, or the connection failed: nothing more is sent or received. */
  Closed: 'closed',
} as const;
export type ProtocolState = (typeof ProtocolState)[keyof typeof ProtocolState];

/** Where the core's bytes go. It must only buffer or write them: it runs in the middle of a parse. */
export interface ProtocolOutput {
  /** Bytes for the peer, in order. Called one or more times per frame; the buffers must not be changed. */
  write(data: Buffer): void;
}

export interface ProtocolOptions {
  role: Role;
  maxMessageBytes?: number;
  maxFragments?: number;
  /**
   * permessage-deflate was negotiated (RFC 7692): RSV1 marks a compressed message. The core checks
   * where it appears and flags the message; inflating is the adapter's (compression-stage.ts).
   */
  compression?: boolean;
}

export class WebSocketProtocol implements FrameSink {
  state: ProtocolState = ProtocolState.Open;
  private readonly parser: FrameParser;
  private readonly events = new ProtocolEventQueue();
  private readonly maskKeys: MaskKeySource | undefined;
  private readonly maxMessageBytes: number;
  private readonly maxFragments: number;

  // The data message being received (§5.4).
  /** Opcode of the message in progress (Text or Binary), or Continuation when there is none. */
  private messageOpcode: number = Opcode.Continuation;
  /** The message in progress had RSV1 on its first frame: its bytes are compressed. */
  private messageCompressed = false;
  /** Check the message's bytes as UTF-8 as they arrive: text, not compressed (inflated text is checked after inflating). */
  private validatingText = false;
  private messageFragments = 0;
  private readonly message: MessageAssembler;
  private readonly textValidator = new Utf8Validator();
  /**
   * Input received but not yet parsed: the chunk whose parse paused once a batch of events waited, where
   * in it to go on, and any chunks that arrived behind it before the events were taken.
   */
  private pausedChunk: Buffer | undefined;
  private pausedOffset = 0;
  private readonly chunksBehind: Buffer[] = [];

  // The frame being received.
  private frameOpcode = 0;
  private frameFin = false;
  private frameLength = 0;
  /** A control frame's payload so far (see collectControlPayload). */
  private controlPayload: Buffer = EMPTY;
  private controlBuffer: Buffer | undefined;
  private controlLength = 0;

  constructor(
    private readonly output: ProtocolOutput,
    options: ProtocolOptions,
  ) {
    this.parser = new FrameParser(this, { expectMasked: options.role === 'server', allowRsv1: options.compression === true });
    this.maskKeys = options.role === 'client' ? new MaskKeySource() : undefined;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes;
    this.maxFragments = options.maxFragments ?? DEFAULT_LIMITS.maxFragments;
    this.message = new MessageAssembler(this.maxMessageBytes);
  }

  /** Bytes held for the message in progress (never more than maxMessageBytes, or 256 below that). */
  get bufferedBytes(): number {
    return this.message.retainedBytes;
  }

  // ── Input ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Feed bytes from the peer: the whole chunk is parsed, then its events wait for `nextEvent()`.
   * Never throws: a violation fails the connection (an Error and a Close event).
   */
  receive(chunk: Buffer): void {
    if (this.state === ProtocolState.Closed) return; // §7.1.1: after the close, input is discarded
    if (this.pausedChunk !== undefined) this.chunksBehind.push(chunk); // behind input still waiting: parsed as events are taken
    else this.parseFrom(chunk, 0);
  }

  /**
   * Parse `chunk` from `start` until it is used up or a batch of events waits (EVENT_BATCH, protocol-events.ts); keep what is left for
   * `nextEvent()`. A chunk holding thousands of tiny frames is parsed a batch at a time, so its events
   * reuse a few records. Hot path: the usual chunk (fewer frames than a batch) is one `push`, no allocation.
   */
  private parseFrom(chunk: Buffer, start: number): void {
    let stoppedAt: number;
    try {
      stoppedAt = this.parser.push(chunk, start);
    } catch (error) {
      // Only the parser and this state machine run in here, so anything but a WebSocketError is a bug of
      // ours: fail with 1011 and a fixed reason; the original stays local, as the error's cause.
      this.fail(error instanceof WebSocketError ? error : new WebSocketError('INTERNAL_ERROR', CloseCode.InternalError, 'internal error', { cause: error }));
      return;
    }
    if (stoppedAt === chunk.length || this.parser.isStopped) return; // used up, or a close: the rest is never read (§7.1.1)
    this.pausedChunk = chunk; // paused with a batch of events waiting
    this.pausedOffset = stoppedAt;
  }

  /** Parse waiting input until a batch of events waits or nothing is left. */
  private parseWaiting(): void {
    while (this.pausedChunk !== undefined && this.events.isEmpty && !this.parser.isStopped) {
      const chunk = this.pausedChunk;
      this.pausedChunk = undefined;
      this.parseFrom(chunk, this.pausedOffset); // pauses again (setting pausedChunk), or uses the chunk up
      if (this.pausedChunk === undefined && this.chunksBehind.length > 0) {
        this.pausedChunk = this.chunksBehind.shift();
        this.pausedOffset = 0;
      }
    }
    if (this.parser.isStopped) this.dropUnparsed();
  }

  private dropUnparsed(): void {
    this.pausedChunk = undefined;
    this.chunksBehind.length = 0;
  }

  /** The next event found in the input, or undefined when there is none. The record is reused. */
  nextEvent(): ProtocolEvent | undefined {
    let event = this.events.shift();
    if (event === undefined && this.pausedChunk !== undefined) {
      this.parseWaiting();
      event = this.events.shift();
    }
    if (event !== undefined && event.kind !== ProtocolEventKind.Message && this.state !== ProtocolState.Closed) this.answer(event);
    return event;
  }

  /** What `nextEvent()` would return next, without taking it (nor writing its answer). */
  get nextEventKind(): ProtocolEventKind | undefined {
    if (this.events.isEmpty && this.pausedChunk !== undefined) this.parseWaiting();
    return this.events.peekKind();
  }

  /**
   * Write what the core owes the peer for an event — a pong, the answer to its close, our close when it
   * broke a rule — as the event is handed out: after whatever the application sent in answer to the
   * events before it, so what we send keeps the order of what we received (an echo of a message is
   * not overtaken by the pong of a ping that followed it, nor cut off by the close behind it; §5.5.1
   * lets an endpoint finish sending its message before it answers a close).
   */
  private answer(event: ProtocolEvent): void {
    switch (event.kind) {
      case ProtocolEventKind.Ping:
        // §5.5.2: a pong with the same payload, unless we have already sent a close.
        if (this.state === ProtocolState.Open) this.writeFrame(Opcode.Pong, event.data);
        break;
      case ProtocolEventKind.Close:
        // §5.5.1: echo the peer's code (an empty body when it sent none), unless our close went first.
        if (this.state === ProtocolState.Open) this.writeFrame(Opcode.Close, encodeClosePayload(event.close!.code));
        this.state = ProtocolState.Closed;
        break;
      case ProtocolEventKind.Error: {
        // §7.1.7: fail the connection: our close carries the error's code (its Close event follows).
        const error = event.error!;
        if (this.state === ProtocolState.Open) this.writeFrame(Opcode.Close, encodeClosePayload(error.closeCode, truncateCloseReason(error.message)));
        this.state = ProtocolState.Closed;
        break;
      }
    }
  }

  /**
   * The transport ended. Without a completed close handshake that is an abnormal closure (1006).
   * Events not yet taken are dropped: the connection is gone, only its Close is left to report.
   */
  transportClosed(): void {
    if (this.state === ProtocolState.Closed) return;
    this.state = ProtocolState.Closed;
    this.parser.stop();
    this.dropUnparsed();
    this.events.clear();
    this.events.push(ProtocolEventKind.Close, undefined, { code: CloseCode.Abnormal, reason: '', wasClean: false });
  }

  // FrameSink: called by the parser. Throwing a WebSocketError here fails the connection.
  // Hot path, written for speed on purpose: a data frame takes the short branch of each method, and
  // control frames and rule violations go out of line, so V8 can inline all three into the parse loop.

  onFrameStart(header: FrameHeader): void {
    this.frameOpcode = header.opcode;
    this.frameFin = header.fin;
    this.frameLength = header.payloadLength;
    if (header.opcode >= Opcode.Close) return this.startControlFrame(header);
    // §5.4: a new message needs the last one finished; a continuation needs one in progress. Neither may
    // carry RSV1 there (RFC 7692 §6: only the first frame of a message says it is compressed).
    if (header.opcode === Opcode.Continuation) {
      if (this.messageOpcode === Opcode.Continuation || header.reservedBits !== 0) throw this.sequenceViolation(header);
    } else {
      if (this.messageOpcode !== Opcode.Continuation) throw this.sequenceViolation(header);
      this.messageOpcode = header.opcode;
      this.messageFragments = 0;
      this.messageCompressed = header.reservedBits !== 0;
      this.validatingText = header.opcode === Opcode.Text && !this.messageCompressed;
    }
    // Limits are checked on the header, before any payload is buffered; nothing is allocated for the
    // announced length: it is only a claim until the bytes arrive.
    if (++this.messageFragments > this.maxFragments || this.message.byteLength + header.payloadLength > this.maxMessageBytes) {
      throw this.limitViolation();
    }
  }

  onFramePayload(data: Buffer): void {
    if (this.frameOpcode >= Opcode.Close) return this.collectControlPayload(data);
    // Fail fast (§8.1): an invalid byte ends the connection now, not when the message is complete.
    if (this.validatingText && !this.textValidator.push(data)) {
      throw new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message is not valid UTF-8');
    }
    this.message.append(data, this.frameFin ? this.message.byteLength + this.frameLength : 0);
  }

  onFrameEnd(): void {
    if (this.frameOpcode >= Opcode.Close) return this.endControlFrame();
    if (!this.frameFin) return;
    if (this.validatingText && !this.textValidator.finish()) {
      throw new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message ends inside a UTF-8 character');
    }
    const isBinary = this.messageOpcode === Opcode.Binary;
    this.messageOpcode = Opcode.Continuation;
    this.events.pushMessage(this.message.take(), isBinary, this.messageCompressed);
    if (this.events.isFull) this.parser.pause();
  }

  /** The rule a data frame breaks by where it comes (the cold side of `onFrameStart`): §5.4, RFC 7692 §6. */
  private sequenceViolation(header: FrameHeader): WebSocketError {
    if (header.opcode !== Opcode.Continuation) {
      return new WebSocketError('EXPECTED_CONTINUATION', CloseCode.ProtocolError, 'new data frame inside a fragmented message');
    }
    if (header.reservedBits !== 0) return new WebSocketError('RESERVED_BITS', CloseCode.ProtocolError, 'RSV1 on a continuation frame');
    return new WebSocketError('UNEXPECTED_CONTINUATION', CloseCode.ProtocolError, 'continuation frame with no message to continue');
  }

  /** The limit a data frame's header goes past (the cold side of `onFrameStart`). */
  private limitViolation(): WebSocketError {
    if (this.messageFragments > this.maxFragments) {
      return new WebSocketError('TOO_MANY_FRAGMENTS', CloseCode.PolicyViolation, `message split into more than ${this.maxFragments} frames`);
    }
    return new WebSocketError('MESSAGE_TOO_BIG', CloseCode.MessageTooBig, `message larger than ${this.maxMessageBytes} bytes`);
  }

  private startControlFrame(header: FrameHeader): void {
    // RFC 7692 §6: RSV1 (the only bit the parser lets through, and only when negotiated) never goes on a control frame.
    if (header.reservedBits !== 0) throw new WebSocketError('RESERVED_BITS', CloseCode.ProtocolError, 'RSV1 on a control frame');
    this.controlPayload = EMPTY;
    this.controlLength = 0;
  }

  /**
   * A control frame's payload (≤ 125 bytes): copied out whole when it arrives in one piece (the usual
   * case); collected in `controlBuffer`, allocated on first need, only when it arrives split.
   */
  private collectControlPayload(data: Buffer): void {
    if (this.controlLength === 0 && data.length === this.frameLength) {
      this.controlPayload = Buffer.from(data); // a copy: `data` is a view of the input
    } else {
      const buffer = (this.controlBuffer ??= Buffer.allocUnsafe(MAX_CONTROL_PAYLOAD));
      data.copy(buffer, this.controlLength);
      this.controlPayload = buffer;
    }
    this.controlLength += data.length;
  }

  private endControlFrame(): void {
    // The event gets a buffer of its own: a whole payload was copied already, a split one is copied now.
    const payload = this.controlPayload === this.controlBuffer ? Buffer.from(this.controlPayload.subarray(0, this.controlLength)) : this.controlPayload;
    this.controlPayload = EMPTY;
    this.handleControlFrame(this.frameOpcode, payload);
  }

  private handleControlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      this.events.push(ProtocolEventKind.Ping, payload); // answered when handed out (see answer())
      if (this.events.isFull) this.parser.pause();
    } else if (opcode === Opcode.Pong) {
      this.events.push(ProtocolEventKind.Pong, payload); // §5.5.3: an unsolicited pong is simply reported, never answered
      if (this.events.isFull) this.parser.pause();
    } else {
      this.handleCloseFrame(payload);
    }
  }

  private handleCloseFrame(payload: Buffer): void {
    const parsed = parseClosePayload(payload);
    if (isClosePayloadProblem(parsed)) {
      throw new WebSocketError('INVALID_CLOSE_PAYLOAD', parsed.closeCode, parsed.message);
    }
    // §7.1.1: the bytes behind a close frame are discarded, whatever they are. The answer is written
    // when the event is handed out (see answer()).
    this.parser.stop();
    this.events.push(ProtocolEventKind.Close, undefined, { code: parsed.code, reason: parsed.reason, wasClean: true });
  }

  // ── Output ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Send a whole message as one frame; `compressed` sets RSV1 (the payload is already deflated, RFC 7692
   * §6). Returns false (and sends nothing) once a close has been sent.
   */
  send(data: Buffer, isBinary: boolean, compressed = false): boolean {
    if (this.state !== ProtocolState.Open) return false;
    this.writeFrame((isBinary ? Opcode.Binary : Opcode.Text) | (compressed ? RSV1_FLAG : 0), data);
    return true;
  }

  /**
   * Send one message as several frames (§5.4): the first Text or Binary with FIN 0, then Continuations,
   * the last with FIN 1. All frames are written in one call, so no other message can come between them.
   */
  sendFragments(parts: readonly Buffer[], isBinary: boolean, compressed = false): boolean {
    if (this.state !== ProtocolState.Open) return false;
    const last = parts.length - 1;
    if (last < 0) return this.send(EMPTY, isBinary, compressed);
    // RFC 7692 §6: RSV1 on the first frame only; the compressed payload runs on through the continuations.
    const first = (isBinary ? Opcode.Binary : Opcode.Text) | (compressed ? RSV1_FLAG : 0);
    for (let index = 0; index <= last; index++) {
      this.writeFrame(index === 0 ? first : Opcode.Continuation, parts[index]!, index === last);
    }
    return true;
  }

  ping(payload: Buffer = EMPTY): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('a ping payload is at most 125 bytes');
    if (this.state !== ProtocolState.Open) return false;
    this.writeFrame(Opcode.Ping, payload);
    return true;
  }

  pong(payload: Buffer = EMPTY): boolean {
    if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('a pong payload is at most 125 bytes');
    if (this.state !== ProtocolState.Open) return false;
    this.writeFrame(Opcode.Pong, payload);
    return true;
  }

  /**
   * Start the close handshake (§7.1.2). Throws RangeError for a code or reason that may not be sent;
   * does nothing once a close has been sent or the connection is closed.
   */
  close(code?: number, reason = ''): void {
    const payload = encodeClosePayload(code, reason);
    if (this.state !== ProtocolState.Open) return;
    this.state = ProtocolState.Closing;
    this.writeFrame(Opcode.Close, payload);
  }

  /**
   * Frame bytes already encoded (a broadcast frames its message once for every connection).
   * Only for a server, whose frames are not masked.
   */
  sendPrepared(frame: readonly Buffer[]): boolean {
    if (this.state !== ProtocolState.Open) return false;
    for (const part of frame) this.output.write(part);
    return true;
  }

  /**
   * Fail the WebSocket connection (§7.1.7): read nothing more, and report. The close frame with the
   * error's code is written when the Error event is handed out (see answer()).
   */
  private fail(error: WebSocketError): void {
    this.parser.stop();
    this.dropUnparsed();
    this.events.push(ProtocolEventKind.Error, undefined, undefined, error);
    this.events.push(ProtocolEventKind.Close, undefined, { code: error.closeCode, reason: error.message, wasClean: false });
  }

  /**
   * Fail the connection for a reason found above the core — a compressed message that does not
   * inflate, or inflates past the limit (§7.1.7). Events not yet taken are dropped: they came after
   * the bad message. The Error and Close events follow, as for a violation found by the parser.
   */
  failConnection(error: WebSocketError): void {
    if (this.state === ProtocolState.Closed) return;
    this.events.clear();
    this.fail(error);
  }

  private writeFrame(opcode: number, payload: Buffer, fin = true): void {
    for (const part of encodeFrame(opcode, payload, fin, this.maskKeys)) this.output.write(part);
  }
}

const EMPTY = Buffer.alloc(0);
