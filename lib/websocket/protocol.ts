// The WebSocket protocol state machine, sans I/O: RFC 6455 §5 (data framing: fragmentation §5.4,
// control frames §5.5, data frames §5.6), §7 (closing the connection) and §8 (error handling).
// Bytes go in through `receive`; messages, pings, pongs, closes and errors come out through a handler,
// together with the bytes to write. No sockets and no timers here: the adapter owns those.

import {
  CloseCode,
  encodeClosePayload,
  isClosePayloadProblem,
  parseClosePayload,
  MAX_CLOSE_REASON_BYTES,
} from './close-codes.ts';
import { WebSocketError } from './errors.ts';
import { encodeFrame } from './frame-encoder.ts';
import { FrameParser, type FrameHeader, type FrameSink } from './frame-parser.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { MaskKeySource } from './mask.ts';
import { MessageAssembler } from './message-assembler.ts';
import { Opcode, MAX_CONTROL_PAYLOAD } from './opcodes.ts';
import { Utf8Validator } from './utf8.ts';

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

export interface CloseInfo {
  /** The peer's code (1005 when its close frame had none), or ours when we failed the connection, or 1006. */
  code: number;
  reason: string;
  /** True when both close frames were exchanged (§7.1.4 "the WebSocket Connection is Closed" cleanly). */
  wasClean: boolean;
}

export interface ProtocolHandler {
  /** Bytes for the peer, in order. Called one or more times per frame; the buffers must not be changed. */
  write(data: Buffer): void;
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A ping arrived; the matching pong has already been written (§5.5.2). */
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** The peer's close frame arrived (the answering close is written) — or the connection failed. */
  onClose(info: CloseInfo): void;
  /** A protocol violation by the peer; the close frame carrying `error.closeCode` is already written. */
  onError(error: WebSocketError): void;
}

export interface ProtocolOptions {
  role: Role;
  maxMessageBytes?: number;
  maxFragments?: number;
}

export class WebSocketProtocol implements FrameSink {
  state: ProtocolState = ProtocolState.Open;
  private readonly parser: FrameParser;
  private readonly maskKeys: MaskKeySource | undefined;
  private readonly maxMessageBytes: number;
  private readonly maxFragments: number;

  // The data message being received (§5.4).
  /** Opcode of the message in progress (Text or Binary), or Continuation when there is none. */
  private messageOpcode: number = Opcode.Continuation;
  private messageFragments = 0;
  private readonly message: MessageAssembler;
  private readonly textValidator = new Utf8Validator();

  // The frame being received.
  private frameOpcode = 0;
  private frameFin = false;
  private frameLength = 0;
  /**
   * A control frame's payload (≤ 125 bytes): copied out whole when it arrives in one piece (the usual
   * case); collected in `controlBuffer`, allocated on first need, only when it arrives split.
   */
  private controlPayload: Buffer = EMPTY;
  private controlBuffer: Buffer | undefined;
  private controlLength = 0;

  constructor(
    private readonly handler: ProtocolHandler,
    options: ProtocolOptions,
  ) {
    this.parser = new FrameParser(this, { expectMasked: options.role === 'server' });
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

  /** Feed bytes from the peer. Never throws: a violation fails the connection through the handler. */
  receive(chunk: Buffer): void {
    if (this.state === ProtocolState.Closed) return; // §7.1.1: after the close, input is discarded
    try {
      this.parser.push(chunk);
    } catch (error) {
      if (error instanceof WebSocketError) this.fail(error);
      else this.fail(new WebSocketError('INVALID_FRAME', CloseCode.InternalError, `internal error: ${String(error)}`));
    }
  }

  /** The transport ended. Without a completed close handshake that is an abnormal closure (1006). */
  transportClosed(): void {
    if (this.state === ProtocolState.Closed) return;
    this.state = ProtocolState.Closed;
    this.handler.onClose({ code: CloseCode.Abnormal, reason: '', wasClean: false });
  }

  // FrameSink: called by the parser. Throwing a WebSocketError here fails the connection.

  onFrameStart(header: FrameHeader): void {
    if (this.state === ProtocolState.Closed) throw STOP;
    this.frameOpcode = header.opcode;
    this.frameFin = header.fin;
    this.frameLength = header.payloadLength;
    if (header.opcode >= Opcode.Close) {
      this.controlPayload = EMPTY;
      this.controlLength = 0;
      return;
    }
    // §5.4: a continuation needs a message to continue; a new message must wait for the last to finish.
    if (header.opcode === Opcode.Continuation) {
      if (this.messageOpcode === Opcode.Continuation) {
        throw new WebSocketError('UNEXPECTED_CONTINUATION', CloseCode.ProtocolError, 'continuation frame with no message to continue');
      }
    } else {
      if (this.messageOpcode !== Opcode.Continuation) {
        throw new WebSocketError('EXPECTED_CONTINUATION', CloseCode.ProtocolError, 'new data frame inside a fragmented message');
      }
      this.messageOpcode = header.opcode;
      this.messageFragments = 0;
    }
    // Limits are checked on the header, before any payload is buffered.
    if (++this.messageFragments > this.maxFragments) {
      throw new WebSocketError('TOO_MANY_FRAGMENTS', CloseCode.PolicyViolation, `message split into more than ${this.maxFragments} frames`);
    }
    if (this.message.byteLength + header.payloadLength > this.maxMessageBytes) {
      throw new WebSocketError('MESSAGE_TOO_BIG', CloseCode.MessageTooBig, `message larger than ${this.maxMessageBytes} bytes`);
    }
    this.message.reserve(header.payloadLength);
  }

  onFramePayload(data: Buffer): void {
    if (this.frameOpcode >= Opcode.Close) {
      if (this.controlLength === 0 && data.length === this.frameLength) {
        this.controlPayload = Buffer.from(data); // a copy: `data` is a view of the input
      } else {
        const buffer = (this.controlBuffer ??= Buffer.allocUnsafe(MAX_CONTROL_PAYLOAD));
        data.copy(buffer, this.controlLength);
        this.controlPayload = buffer;
      }
      this.controlLength += data.length;
      return;
    }
    // Fail fast (§8.1): an invalid byte ends the connection now, not when the message is complete.
    if (this.messageOpcode === Opcode.Text && !this.textValidator.push(data)) {
      throw new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message is not valid UTF-8');
    }
    const expectedTotal = this.frameFin ? this.message.byteLength + this.frameLength : 0;
    this.message.append(data, expectedTotal);
  }

  onFrameEnd(): void {
    if (this.frameOpcode >= Opcode.Close) {
      // The handler gets a buffer of its own: a whole payload was copied already, a split one is copied now.
      const payload = this.controlPayload === this.controlBuffer ? Buffer.from(this.controlPayload.subarray(0, this.controlLength)) : this.controlPayload;
      this.controlPayload = EMPTY;
      this.handleControlFrame(this.frameOpcode, payload);
      return;
    }
    if (!this.frameFin) return;
    const isBinary = this.messageOpcode === Opcode.Binary;
    if (!isBinary && !this.textValidator.finish()) {
      throw new WebSocketError('INVALID_UTF8', CloseCode.InvalidPayload, 'text message ends inside a UTF-8 character');
    }
    this.messageOpcode = Opcode.Continuation;
    this.handler.onMessage(this.message.take(), isBinary);
  }

  private handleControlFrame(opcode: number, payload: Buffer): void {
    if (opcode === Opcode.Ping) {
      // §5.5.2: answer with a pong carrying the same payload, unless we have already sent a close.
      if (this.state === ProtocolState.Open) this.writeFrame(Opcode.Pong, payload);
      this.handler.onPing(payload);
    } else if (opcode === Opcode.Pong) {
      this.handler.onPong(payload); // §5.5.3: an unsolicited pong is simply reported, never answered
    } else {
      this.handleCloseFrame(payload);
    }
  }

  private handleCloseFrame(payload: Buffer): void {
    const parsed = parseClosePayload(payload);
    if (isClosePayloadProblem(parsed)) {
      throw new WebSocketError('INVALID_CLOSE_PAYLOAD', parsed.closeCode, parsed.message);
    }
    if (this.state === ProtocolState.Open) {
      // §5.5.1: answer with a close, echoing the code (an empty body when the peer sent none).
      this.writeFrame(Opcode.Close, encodeClosePayload(parsed.code));
    }
    this.state = ProtocolState.Closed;
    this.handler.onClose({ code: parsed.code, reason: parsed.reason, wasClean: true });
  }

  // ── Output ────────────────────────────────────────────────────────────────────────────────────

  /** Send a whole message as one frame. Returns false (and sends nothing) once a close has been sent. */
  send(data: Buffer, isBinary: boolean): boolean {
    if (this.state !== ProtocolState.Open) return false;
    this.writeFrame(isBinary ? Opcode.Binary : Opcode.Text, data);
    return true;
  }

  /**
   * Send one message as several frames (§5.4): the first Text or Binary with FIN 0, then Continuations,
   * the last with FIN 1. All frames are written in one call, so no other message can come between them.
   */
  sendFragments(parts: readonly Buffer[], isBinary: boolean): boolean {
    if (this.state !== ProtocolState.Open) return false;
    const last = parts.length - 1;
    if (last < 0) return this.send(EMPTY, isBinary);
    for (let index = 0; index <= last; index++) {
      this.writeFrame(index === 0 ? (isBinary ? Opcode.Binary : Opcode.Text) : Opcode.Continuation, parts[index]!, index === last);
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
    for (const part of frame) this.handler.write(part);
    return true;
  }

  /** Fail the WebSocket connection (§7.1.7): send a close with the error's code, stop, report. */
  private fail(error: WebSocketError): void {
    // Bytes behind a close frame in the same chunk are discarded, whatever they are: the parser may
    // reject their header before our onFrameStart can stop it, and that is no news for the handler.
    if (error === STOP || this.state === ProtocolState.Closed) return;
    const wasOpen = this.state === ProtocolState.Open;
    this.state = ProtocolState.Closed;
    if (wasOpen) this.writeFrame(Opcode.Close, encodeClosePayload(error.closeCode, truncateReason(error.message)));
    this.handler.onError(error);
    this.handler.onClose({ code: error.closeCode, reason: error.message, wasClean: false });
  }

  private writeFrame(opcode: number, payload: Buffer, fin = true): void {
    for (const part of encodeFrame(opcode, payload, fin, this.maskKeys)) this.handler.write(part);
  }
}

const EMPTY = Buffer.alloc(0);

/** Thrown to stop the parser once the connection closed inside a callback; not an error of the peer. */
const STOP = new WebSocketError('INVALID_FRAME', CloseCode.Normal, 'stopped');

/** A close reason must fit 123 bytes; error messages are ASCII, so cutting by characters is safe. */
function truncateReason(message: string): string {
  return message.length <= MAX_CLOSE_REASON_BYTES ? message : message.slice(0, MAX_CLOSE_REASON_BYTES);
}
