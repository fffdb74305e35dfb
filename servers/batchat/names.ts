// The rules for a BATCHAT nickname: what the user typed at the name prompt either
// becomes a name or gets a one-line explanation of what to change.

import { hasControlCharacters } from './sanitize.ts';

export const MAX_NAME_CHARACTERS = 32;

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Checks the form of a name; whether it is already taken is the room's business. */
export function checkName(typed: string): NameCheck {
  const name = typed.trim();
  if (name === '') return { ok: false, reason: 'Your name cannot be empty.' };
  // Count characters, not UTF-16 units, so "José" is 4 whatever the encoding.
  if ([...name].length > MAX_NAME_CHARACTERS) {
    return { ok: false, reason: `Your name can be at most ${MAX_NAME_CHARACTERS} characters.` };
  }
  if (hasControlCharacters(name)) {
    return { ok: false, reason: 'Your name cannot contain control characters or escape sequences.' };
  }
  // Names are printed as "<name> text": brackets in a name could fake a second speaker.
  if (/[<>]/.test(name)) return { ok: false, reason: 'Your name cannot contain < or >.' };
  // "/quit" as a name would read like a command in every transcript.
  if (name.startsWith('/')) return { ok: false, reason: 'Your name cannot start with /.' };
  return { ok: true, name };
}

/** Two names are the same user if they differ only in case (or Unicode normalization form). */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}
