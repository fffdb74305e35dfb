// The BATCHAT room: who has a name, and delivering a line to everyone but its sender.
// No I/O here; members decide how a line reaches their user.

import { nameKey } from './names.ts';

export interface Member {
  readonly name: string;
  /** Hands one line (no line ending) to this member's user. Must not throw. */
  deliver(line: string): void;
}

/**
 * What a session needs from the chat it joins. ChatRoom answers at once; a room shared with other
 * processes (shared-room.ts) answers name claims and /who once Redis has. Promises never reject.
 */
export interface Room {
  /** Adds the member unless its name is taken; resolves to whether it joined. */
  join(member: Member): boolean | Promise<boolean>;
  leave(member: Member): void;
  /** Everyone in the chat, in joining order. */
  names(): string[] | Promise<string[]>;
  /** Delivers to every member except `sender`; pass no sender for a line from the server. */
  broadcast(line: string, sender?: Member): void;
}

export class ChatRoom implements Room {
  // Keyed by nameKey so "Mike" and "mike" can't both join; kept in joining order for /who.
  readonly #members = new Map<string, Member>();

  get size(): number {
    return this.#members.size;
  }

  isTaken(name: string): boolean {
    return this.#members.has(nameKey(name));
  }

  /** Adds the member unless its name is taken; returns whether it joined. */
  join(member: Member): boolean {
    const key = nameKey(member.name);
    if (this.#members.has(key)) return false;
    this.#members.set(key, member);
    return true;
  }

  leave(member: Member): void {
    const key = nameKey(member.name);
    if (this.#members.get(key) === member) this.#members.delete(key);
  }

  names(): string[] {
    return [...this.#members.values()].map((member) => member.name);
  }

  /** Delivers to every member except `sender`; pass no sender for a line from the server. */
  broadcast(line: string, sender?: Member): void {
    // A copy, because delivering may make a member leave while we walk the list.
    for (const member of [...this.#members.values()]) {
      if (member !== sender) member.deliver(line);
    }
  }
}
