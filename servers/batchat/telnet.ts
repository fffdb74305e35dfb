// An incremental telnet line decoder (RFC 854 NVT, RFC 855 subnegotiation), sans-I/O:
// feed it raw bytes in chunks of any size, get back complete lines, interrupts and the
// option refusals to send back (RFC 1143: we support no options, so we only ever say no).

// RFC 854 command bytes, each following an IAC (255).
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const IP = 244; // Interrupt Process: what telnet sends when the user presses Ctrl-C
const SE = 240;
const ABORT = 238; // RFC 1184
const EOF = 236; // RFC 1184

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const CTRL_C = 0x03;
const CTRL_D = 0x04;

export type TelnetEvent =
  /** One line of text with its line ending removed; `truncated` if bytes past the limit were dropped. */
  | { type: 'line'; text: string; truncated: boolean }
  /** The user asked to end the session (Ctrl-C, Ctrl-D, IAC IP/ABORT/EOF). Later bytes are ignored. */
  | { type: 'interrupt'; cause: string }
  /** Bytes the caller should write back to the client (option refusals). */
  | { type: 'reply'; bytes: Uint8Array };

type State =
  | 'data'
  | 'cr' // saw CR: LF or NUL completes the line ending; anything else starts the next line
  | 'iac'
  | 'option' // saw IAC WILL/WONT/DO/DONT, the option code comes next
  | 'sb' // inside IAC SB ... IAC SE, whose contents we discard
  | 'sb-iac'
  | 'stopped';

export class TelnetLineDecoder {
  readonly maxLineBytes: number;
  // Allocated once: a line can never take more memory than this, whatever the client sends.
  readonly #line: Buffer;
  #length = 0;
  #truncated = false;
  #state: State = 'data';
  #verb = 0;

  constructor(maxLineBytes = 1024) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
    this.#line = Buffer.alloc(maxLineBytes);
  }

  /** Decodes one chunk. Bytes are kept across calls, so a line or an IAC sequence may span chunks. */
  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    for (const byte of chunk) {
      if (this.#state === 'stopped') break;
      this.#step(byte, events);
    }
    return events;
  }

  /**
   * Called when the client closed its side: a last line typed without Enter (nc then Ctrl-D)
   * is still delivered rather than silently lost.
   */
  finish(): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    if (this.#state !== 'stopped' && (this.#length > 0 || this.#truncated)) this.#endLine(events);
    this.#state = 'stopped';
    return events;
  }

  #step(byte: number, events: TelnetEvent[]): void {
    switch (this.#state) {
      case 'cr':
        this.#state = 'data';
        if (byte === LF || byte === NUL) return;
        this.#data(byte, events); // a bare CR already ended the line; this byte starts the next
        return;
      case 'data':
        this.#data(byte, events);
        return;
      case 'iac':
        this.#command(byte, events);
        return;
      case 'option':
        this.#state = 'data';
        this.#refuse(this.#verb, byte, events);
        return;
      case 'sb':
        if (byte === IAC) this.#state = 'sb-iac';
        return;
      case 'sb-iac':
        // IAC IAC inside a subnegotiation is an escaped data byte; only IAC SE ends it.
        this.#state = byte === SE ? 'data' : 'sb';
        return;
      case 'stopped':
        return;
    }
  }

  #data(byte: number, events: TelnetEvent[]): void {
    switch (byte) {
      case IAC:
        this.#state = 'iac';
        return;
      case CR:
        this.#endLine(events);
        this.#state = 'cr';
        return;
      case LF: // nc and most Unix tools end lines with a bare LF
        this.#endLine(events);
        return;
      case NUL:
        return;
      case CTRL_C:
        this.#stop('Ctrl-C', events);
        return;
      case CTRL_D:
        this.#stop('Ctrl-D', events);
        return;
      default:
        this.#append(byte);
    }
  }

  #command(byte: number, events: TelnetEvent[]): void {
    this.#state = 'data';
    switch (byte) {
      case IAC: // IAC IAC is how telnet sends a literal 255 byte
        this.#append(IAC);
        return;
      case WILL:
      case WONT:
      case DO:
      case DONT:
        this.#verb = byte;
        this.#state = 'option';
        return;
      case SB:
        this.#state = 'sb';
        return;
      case IP:
        this.#stop('IAC IP', events);
        return;
      case ABORT:
        this.#stop('IAC ABORT', events);
        return;
      case EOF:
        this.#stop('IAC EOF', events);
        return;
      default:
        // NOP, DM, BRK, AO, AYT, EC, EL, GA, SE out of place: nothing for a line chat to do.
        return;
    }
  }

  // RFC 1143 for a side that supports no options: every option is off and stays off.
  // A request to turn one on is refused; a notice that it is off needs no answer,
  // because it matches our state already (answering it is what causes negotiation loops).
  #refuse(verb: number, option: number, events: TelnetEvent[]): void {
    if (verb === DO) events.push({ type: 'reply', bytes: Uint8Array.of(IAC, WONT, option) });
    if (verb === WILL) events.push({ type: 'reply', bytes: Uint8Array.of(IAC, DONT, option) });
  }

  #append(byte: number): void {
    if (this.#length < this.maxLineBytes) this.#line[this.#length++] = byte;
    else this.#truncated = true;
  }

  #endLine(events: TelnetEvent[]): void {
    // When we cut a line, we may have cut inside a UTF-8 character: drop its partial bytes
    // rather than show a replacement character that the sender never typed.
    const end = this.#truncated ? utf8BoundaryAtOrBefore(this.#line, this.#length) : this.#length;
    // Decoding whole lines (never partial chunks) is what lets a multi-byte character that
    // TCP split across two reads arrive intact. Invalid UTF-8 becomes U+FFFD, never an error.
    const text = this.#line.toString('utf8', 0, end);
    events.push({ type: 'line', text, truncated: this.#truncated });
    this.#length = 0;
    this.#truncated = false;
  }

  #stop(cause: string, events: TelnetEvent[]): void {
    this.#state = 'stopped';
    events.push({ type: 'interrupt', cause });
  }
}

/** The largest n <= length such that bytes[0, n) does not end in the middle of a UTF-8 character. */
export function utf8BoundaryAtOrBefore(bytes: Uint8Array, length: number): number {
  // Walk back over at most three continuation bytes (10xxxxxx) to the character's first byte.
  let start = length;
  while (start > 0 && length - start < 4 && (bytes[start - 1]! & 0xc0) === 0x80) start--;
  if (start === 0) return length;
  const lead = bytes[start - 1]!;
  const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  const have = length - (start - 1);
  return have >= needed ? length : start - 1;
}
