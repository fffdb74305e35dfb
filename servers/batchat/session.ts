// One BATCHAT user's conversation with the server, from banner to goodbye: the name
// prompt, chat lines, commands and leaving. Sans-I/O: bytes come in through receive(),
// text goes out through a Peer, so the whole dialogue can be tested without sockets.

import * as say from './messages.ts';
import { checkName } from './names.ts';
import type { Member, Room } from './room.ts';
import { sanitizeText } from './sanitize.ts';
import { TelnetLineDecoder } from './telnet.ts';
import type { TelnetEvent } from './telnet.ts';

// RFC 854: the network virtual terminal ends every line with CR LF, whatever the client sent.
const CRLF = '\r\n';

/** The connection as the session sees it. */
export interface Peer {
  write(data: string | Uint8Array): void;
  /** Sends whatever is still buffered, then closes the connection. */
  end(): void;
}

/**
 * Why a session ended. The room hears "has quit the chat" for the ways a user chooses or
 * happens to leave; a shutdown and an unnamed user's departure concern nobody else.
 */
export type LeaveReason = 'quit' | 'interrupt' | 'disconnected' | 'too-slow' | 'name-timeout' | 'shutdown';

export type SessionState = 'naming' | 'chatting' | 'gone';

export class ChatSession implements Member {
  readonly #room: Room;
  readonly #peer: Peer;
  readonly #decoder: TelnetLineDecoder;
  #state: SessionState = 'naming';
  #name = '';
  #leftBecause: LeaveReason | undefined;
  /** Events that arrived while the room was answering (a shared room's name claim or /who): handled after, in order. */
  #held: TelnetEvent[] | undefined;

  constructor(room: Room, peer: Peer, maxLineBytes = 1024) {
    this.#room = room;
    this.#peer = peer;
    this.#decoder = new TelnetLineDecoder(maxLineBytes);
  }

  get name(): string {
    return this.#name;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Why the session ended, once it has. */
  get leftBecause(): LeaveReason | undefined {
    return this.#leftBecause;
  }

  /** Shows the banner and asks for a name. */
  start(): void {
    this.#peer.write([...say.BANNER, '', say.WELCOME, '', say.NAME_PROMPT].join(CRLF));
  }

  /** Feeds bytes from the client. */
  receive(chunk: Uint8Array): void {
    if (this.#state === 'gone') return;
    this.#handle(this.#decoder.push(chunk));
  }

  /** The client closed its sending side (EOF): a final unterminated line still counts. */
  receiveEnd(): void {
    if (this.#state === 'gone') return;
    this.#handle(this.#decoder.finish());
    this.leave('disconnected');
  }

  deliver(line: string): void {
    if (this.#state === 'chatting') this.#peer.write(line + CRLF);
  }

  /**
   * Ends the session once, whatever happens after: tells the room if this user had joined,
   * says `farewell` to the user if given, and closes the connection.
   */
  leave(reason: LeaveReason, farewell?: string): void {
    if (this.#state === 'gone') return;
    const wasChatting = this.#state === 'chatting';
    const wasNaming = this.#state === 'naming';
    this.#state = 'gone';
    this.#leftBecause = reason;
    if (wasChatting) {
      this.#room.leave(this);
      if (reason === 'too-slow') this.#room.broadcast(say.tooSlowNotice(this.#name));
      else if (reason !== 'shutdown') this.#room.broadcast(say.quitNotice(this.#name));
    }
    // Someone still at the name prompt has the cursor after it: start the farewell on a new line.
    if (farewell !== undefined) this.#peer.write((wasNaming ? CRLF : '') + farewell + CRLF);
    this.#peer.end();
  }

  #handle(events: TelnetEvent[]): void {
    for (const [index, event] of events.entries()) {
      if (this.#state === 'gone') return; // e.g. "/quit" followed by more lines in the same chunk
      if (this.#held !== undefined) {
        this.#held.push(...events.slice(index));
        return;
      }
      if (event.type === 'reply') this.#peer.write(event.bytes);
      else if (event.type === 'interrupt') this.leave('interrupt');
      else if (this.#state === 'naming') this.#takeName(event.text);
      else this.#chat(event.text, event.truncated);
    }
  }

  #takeName(typed: string): void {
    if (isCommand(typed, '/quit')) return this.leave('quit');
    const check = checkName(typed);
    if (!check.ok) return this.#askAgain(check.reason);
    this.#name = check.name;
    const joined = this.#room.join(this);
    if (typeof joined === 'boolean') this.#joined(joined);
    else this.#afterRoomAnswers(joined, (ok) => this.#joined(ok));
  }

  #joined(ok: boolean): void {
    if (this.#state === 'gone') {
      // Left while the claim was on its way: give the name back.
      if (ok) this.#room.leave(this);
      return;
    }
    if (!ok) {
      const taken = this.#name;
      this.#name = '';
      return this.#askAgain(`The name ${taken} is taken, please pick another.`);
    }
    this.#state = 'chatting';
    this.#peer.write(say.greeting(this.#name) + CRLF + CRLF);
  }

  /** Hold every later event until `answer` arrives, so replies keep the order the user typed in. */
  #afterRoomAnswers<T>(answer: Promise<T>, then: (value: T) => void): void {
    this.#held = [];
    void answer.then((value) => {
      const held = this.#held ?? [];
      this.#held = undefined;
      then(value);
      this.#handle(held);
    });
  }

  #askAgain(reason: string): void {
    this.#peer.write(reason + CRLF + say.NAME_PROMPT);
  }

  #chat(typed: string, truncated: boolean): void {
    const trimmed = typed.trim();
    // "//text" is the escape for a message that starts with a slash.
    if (trimmed.startsWith('/') && !trimmed.startsWith('//')) return this.#command(trimmed);
    const text = sanitizeText(trimmed.startsWith('//') ? trimmed.slice(1) : typed).trimEnd();
    // Lines with nothing visible (only spaces, or only escape codes) would be noise to others.
    if (text.trim() !== '') this.#room.broadcast(say.chatLine(this.#name, text), this);
    if (truncated) this.#reply(say.lineCutNotice(this.#decoder.maxLineBytes));
  }

  #command(line: string): void {
    const command = line.split(/\s+/, 1)[0]!.toLowerCase();
    if (command === '/quit') return this.leave('quit');
    if (command === '/who') {
      const names = this.#room.names();
      if (Array.isArray(names)) return this.#reply(say.whoList(names));
      return this.#afterRoomAnswers(names, (all) => {
        if (this.#state === 'chatting') this.#reply(say.whoList(all));
      });
    }
    if (command === '/help') return this.#reply(...say.HELP);
    // The user's own input, but still sanitized and shortened before we print it back.
    const shown = [...sanitizeText(command)].slice(0, 32).join('');
    this.#reply(say.unknownCommand(shown));
  }

  #reply(...lines: string[]): void {
    this.#peer.write(lines.map((line) => line + CRLF).join(''));
  }
}

function isCommand(typed: string, command: string): boolean {
  return typed.trim().toLowerCase() === command;
}
