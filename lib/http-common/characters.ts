// Lookup tables for the byte classes of the HTTP grammar: tchar, field-vchar, request-target, hex digits.
// RFC 9110 §5.6.2 (token), §5.5 (field values), RFC 9112 §3.2 (request-target), §7.1 (chunk-size).
// Hot path: the parser indexes these with each input byte instead of running regular expressions.

function table(predicate: (byte: number) => boolean): Uint8Array {
  const result = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) result[byte] = predicate(byte) ? 1 : 0;
  return result;
}

const TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";

/** tchar: the bytes allowed in methods, header names and transfer-coding names (RFC 9110 §5.6.2). */
export const TOKEN_CHARACTER = table((byte) =>
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) ||
  TOKEN_PUNCTUATION.includes(String.fromCharCode(byte)));

/** field-vchar, SP and HTAB: what may appear inside a header value (RFC 9110 §5.5); obs-text is kept as opaque bytes. */
export const FIELD_VALUE_CHARACTER = table((byte) => byte === 0x09 || byte === 0x20 || (byte >= 0x21 && byte <= 0x7e) || byte >= 0x80);

/** Visible ASCII: the request-target may contain nothing else, which also keeps spaces and controls out (RFC 9112 §3.2). */
export const TARGET_CHARACTER = table((byte) => byte >= 0x21 && byte <= 0x7e);

/** The value of a hexadecimal digit, or 255 for any other byte (RFC 9112 §7.1 chunk-size). */
export const HEX_VALUE = (() => {
  const result = new Uint8Array(256).fill(255);
  for (let digit = 0; digit < 10; digit++) result[0x30 + digit] = digit;
  for (let letter = 0; letter < 6; letter++) {
    result[0x41 + letter] = 10 + letter;
    result[0x61 + letter] = 10 + letter;
  }
  return result;
})();

/** True when every character of `name` is a tchar, i.e. it can be sent as a header name. */
export function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code > 0x7f || TOKEN_CHARACTER[code] === 0) return false;
  }
  return true;
}

/** True when `value` can be sent as a header value: no CR, LF or NUL, so a handler cannot split the response. */
export function isSafeFieldValue(value: string): boolean {
  return value.indexOf('\r') === -1 && value.indexOf('\n') === -1 && value.indexOf('\0') === -1;
}
