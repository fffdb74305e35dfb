// The Sec-WebSocket-Extensions header: RFC 6455 §9.1 (grammar), §4.3 (ABNF) and §11.3.2, with the
// list and token rules of RFC 7230 §3.2.6 and §7 that it builds on.
//
//   Sec-WebSocket-Extensions = 1#extension
//   extension       = extension-token *( ";" extension-param )
//   extension-param = token [ "=" ( token | quoted-string ) ]
//
// A client may send several header lines and several comma-separated offers (the order is its
// preference); parameters may carry no value. §9.1 adds that a quoted value must still be a token
// once unquoted, so `x="10"` means `x=10` and `x="a b"` is malformed.
//
// The header comes from the peer, so the parser is a single left-to-right pass over character classes
// (no regular expression that could backtrack), bounded in how many offers and parameters it builds.
// The token class is HTTP's own (lib/http-common/characters.ts, shared with lib/http/: no folder imports the other for it).

import { isToken, TOKEN_CHARACTER } from '../http-common/characters.ts';

export interface ExtensionParam {
  name: string;
  /** The value, unquoted; `true` for a parameter without a value. */
  value: string | true;
}

export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

export type ExtensionsParse = { ok: true; offers: ExtensionOffer[] } | { ok: false; reason: string };

/** More offers than a real client makes (browsers send one or two); a longer list is refused as hostile. */
export const MAX_EXTENSION_OFFERS = 32;
/** More parameters than any registered extension defines (permessage-deflate has four). */
export const MAX_EXTENSION_PARAMS = 16;

function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARACTER[code] === 1;
}

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class MalformedHeader {
  constructor(readonly reason: string) {}
}

/** A cursor over one header value; each method consumes one production of the grammar. */
class ExtensionScanner {
  position = 0;
  constructor(private readonly text: string) {}

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): number {
    return this.text.charCodeAt(this.position);
  }

  skipWhitespace(): void {
    while (!this.atEnd && (this.peek() === SPACE || this.peek() === TAB)) this.position++;
  }

  token(what: string): string {
    const start = this.position;
    while (!this.atEnd && isTokenChar(this.peek())) this.position++;
    if (this.position === start) throw this.unexpected(`expected ${what}`);
    return this.text.slice(start, this.position);
  }

  /** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, returned unquoted. */
  quotedString(): string {
    this.position++; // the opening quote
    let value = '';
    while (!this.atEnd) {
      const code = this.peek();
      if (code === QUOTE) {
        this.position++;
        return value;
      }
      if (code === BACKSLASH) {
        this.position++;
        if (this.atEnd) break;
      } else if (code < 0x20 && code !== TAB) {
        throw this.unexpected('control character in a quoted value');
      }
      value += this.text[this.position];
      this.position++;
    }
    throw new MalformedHeader('unterminated quoted value');
  }

  unexpected(what: string): MalformedHeader {
    const found = this.atEnd ? 'end of header' : JSON.stringify(this.text[this.position]);
    return new MalformedHeader(`${what} at character ${this.position + 1}, found ${found}`);
  }
}

function parseParam(scanner: ExtensionScanner): ExtensionParam {
  const name = scanner.token('a parameter name');
  scanner.skipWhitespace();
  if (scanner.atEnd || scanner.peek() !== EQUALS) return { name, value: true };
  scanner.position++;
  scanner.skipWhitespace();
  if (scanner.atEnd || scanner.peek() !== QUOTE) return { name, value: scanner.token(`a value for ${name}`) };
  const value = scanner.quotedString();
  if (!isToken(value)) throw new MalformedHeader(`quoted value of ${name} is not a token once unquoted (RFC 6455 §9.1)`);
  return { name, value };
}

/** Parse one header line's value, appending its offers. */
function parseLine(text: string, offers: ExtensionOffer[]): void {
  const scanner = new ExtensionScanner(text);
  for (;;) {
    scanner.skipWhitespace();
    if (scanner.atEnd) return;
    if (scanner.peek() === COMMA) {
      scanner.position++; // an empty list element, which RFC 7230 §7 asks recipients to accept
      continue;
    }
    if (offers.length === MAX_EXTENSION_OFFERS) throw new MalformedHeader(`more than ${MAX_EXTENSION_OFFERS} extension offers`);
    const offer: ExtensionOffer = { name: scanner.token('an extension name'), params: [] };
    scanner.skipWhitespace();
    while (!scanner.atEnd && scanner.peek() === SEMICOLON) {
      scanner.position++;
      scanner.skipWhitespace();
      if (offer.params.length === MAX_EXTENSION_PARAMS) {
        throw new MalformedHeader(`more than ${MAX_EXTENSION_PARAMS} parameters for ${offer.name}`);
      }
      offer.params.push(parseParam(scanner));
      scanner.skipWhitespace();
    }
    offers.push(offer);
    if (scanner.atEnd) return;
    if (scanner.peek() !== COMMA) throw scanner.unexpected('expected "," or ";"');
    scanner.position++;
  }
}

/**
 * Parse every Sec-WebSocket-Extensions value of a message, in order. Accepts the header as node:http
 * gives it (one string, lines already joined with ", ") or as a list of lines. An absent header is an
 * empty list. Never throws: a malformed header comes back as `{ ok: false, reason }`.
 */
export function parseExtensions(header: string | readonly string[] | undefined): ExtensionsParse {
  const lines = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  const offers: ExtensionOffer[] = [];
  try {
    for (const line of lines) parseLine(line, offers);
  } catch (error) {
    if (error instanceof MalformedHeader) return { ok: false, reason: `malformed Sec-WebSocket-Extensions: ${error.reason}` };
    throw error;
  }
  return { ok: true, offers };
}

function formatValue(value: string): string {
  if (isToken(value)) return value;
  let quoted = '"';
  for (const char of value) quoted += char === '"' || char === '\\' ? '\\' + char : char;
  return quoted + '"';
}

/** One extension as it appears in the header: `name; flag; key=value`. */
export function formatExtension(offer: ExtensionOffer): string {
  let text = offer.name;
  for (const param of offer.params) text += param.value === true ? `; ${param.name}` : `; ${param.name}=${formatValue(param.value)}`;
  return text;
}

/** A whole header value: the extensions in order of preference, comma-separated. */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers.map(formatExtension).join(', ');
}
