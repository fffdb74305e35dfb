// Makes one user's text safe to print on another user's terminal: removes ANSI/ECMA-48
// escape sequences (CSI, OSC, DCS, ...) and every control character (C0, DEL, C1), so a
// chat line can't clear, recolour, retitle or rewrite anybody's screen. UTF-8 text stays.

// ECMA-48 sequences are removed whole, parameters included, so "ESC[2J" leaves no "[2J" behind.
// CSI: ESC [ (or the one-byte C1 form 0x9B), parameter bytes, intermediate bytes, a final byte.
const CSI = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
// OSC, DCS, SOS, PM and APC carry a string up to BEL or ST; an unterminated one runs to
// the end of the line, since a terminal would keep swallowing text the same way.
const CONTROL_STRING = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?/g;
// Every other escape: ESC, optional intermediates, one final byte (ESC c resets the terminal).
const OTHER_ESCAPE = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;

// The guarantee: whatever the patterns above missed, no control byte survives this one,
// and without ESC there is no escape sequence. C0, DEL and C1.
const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/g;
// Unicode bidirectional overrides and isolates reorder how the rest of a line is displayed,
// which lets a line pretend to say something else; they are formatting, not text.
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/g;

/** Returns the text with escape sequences and control characters removed; tabs become spaces. */
export function sanitizeText(text: string): string {
  return text
    .replace(CSI, '')
    .replace(CONTROL_STRING, '')
    .replace(OTHER_ESCAPE, '')
    .replace(/\t/g, ' ')
    .replace(CONTROL_CHARACTER, '')
    .replace(BIDI_CONTROL, '');
}

/** True if the text contains anything sanitizeText would remove (tabs included). */
export function hasControlCharacters(text: string): boolean {
  return /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text);
}
