// What the wscat user types and what wscat prints, as pure functions (no sockets, no terminal):
// the /commands, the `--header "Name: value"` syntax, and how messages and close codes are shown.

import { printable } from '../../lib/cli.ts';
import { CloseCode, isWireCloseCode } from '../../lib/websocket/index.ts';

export type Command =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; data: Buffer }
  | { kind: 'ping'; payload: string }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'help' }
  | { kind: 'invalid'; message: string };

export const COMMANDS_HELP = `Commands:
  any text           sent as a text message
  /ping [text]       send a ping (the pong is shown when it comes back)
  /close [code] [reason]   start the close handshake (default 1000)
  /binary <hex>      send a binary message, e.g. /binary 00ff10
  /help              this list
  //text             send "/text" (a leading slash, escaped)`;

/** Read one typed line. */
export function parseCommand(line: string): Command {
  if (!line.startsWith('/')) return { kind: 'text', text: line };
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  const space = line.indexOf(' ');
  const name = space === -1 ? line.slice(1) : line.slice(1, space);
  const rest = space === -1 ? '' : line.slice(space + 1);
  switch (name) {
    case 'ping':
      if (Buffer.byteLength(rest) > 125) return { kind: 'invalid', message: 'a ping payload is at most 125 bytes' };
      return { kind: 'ping', payload: rest };
    case 'close':
      return parseClose(rest.trim());
    case 'binary':
      return parseBinary(rest.trim());
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', message: `unknown command /${name} (type /help; to send text starting with "/", type "//")` };
  }
}

function parseClose(argumentsText: string): Command {
  if (argumentsText === '') return { kind: 'close', code: CloseCode.Normal, reason: '' };
  const space = argumentsText.indexOf(' ');
  const codeText = space === -1 ? argumentsText : argumentsText.slice(0, space);
  const reason = space === -1 ? '' : argumentsText.slice(space + 1);
  const code = Number(codeText);
  if (!Number.isInteger(code) || !isWireCloseCode(code)) {
    return { kind: 'invalid', message: `${codeText} is not a close code that may be sent (1000–1003, 1007–1014, 3000–4999)` };
  }
  if (Buffer.byteLength(reason) > 123) return { kind: 'invalid', message: 'a close reason is at most 123 bytes' };
  return { kind: 'close', code, reason };
}

function parseBinary(hex: string): Command {
  const digits = hex.replaceAll(' ', '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    return { kind: 'invalid', message: '/binary needs hex digits in pairs, e.g. /binary 48656c6c6f' };
  }
  return { kind: 'binary', data: Buffer.from(digits, 'hex') };
}

/** `--header "Name: value"` → [name, value], or an error message. */
export function parseHeader(text: string): [string, string] | string {
  const colon = text.indexOf(':');
  const name = colon === -1 ? '' : text.slice(0, colon).trim();
  if (name === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `--header needs "Name: value", got ${JSON.stringify(text)}`;
  const value = text.slice(colon + 1).trim();
  if (/[\r\n]/.test(value)) return '--header values may not contain line breaks';
  return [name, value];
}

/** Most bytes of a binary message shown in hex; the length is always shown in full. */
const MAX_HEX_BYTES = 256;

/**
 * Each kind of thing received has its own marker, so nothing a server sends can pass for something
 * else: a text message always starts "< " (with a space) and continues indented, never "<[".
 */
export const RECEIVED_MARKERS_HELP = `What is printed on stdout:
  < text                   a text message (its further lines are indented by two spaces)
  <[binary] N bytes: hex   a binary message
  <[ping] payload          a ping frame from the server (wscat answers it with a pong)
  <[pong] payload          a pong frame (the answer to /ping, or one the server sent unasked)
and on stderr, "* connected", "* error: …" and "* closed: CODE Name "reason"" for the close frame.
Control characters are shown as symbols (ESC as ␛, CR as ␍), never passed to the terminal.`;

/** A received message as printed: text as it is, binary as its length and hex. */
export function formatMessage(data: Buffer, isBinary: boolean): string {
  if (!isBinary) return `< ${data.toString('utf8').split('\n').map(printable).join('\n  ')}`;
  const shown = data.subarray(0, MAX_HEX_BYTES).toString('hex');
  const more = data.length > MAX_HEX_BYTES ? ` … (${data.length - MAX_HEX_BYTES} more bytes)` : '';
  return `<[binary] ${data.length} ${data.length === 1 ? 'byte' : 'bytes'}: ${shown}${more}`;
}

/** A received ping or pong frame: its own marker, then the payload (at most 125 bytes) as text. */
export function formatControlFrame(kind: 'ping' | 'pong', payload: Buffer): string {
  return `<[${kind}]${payload.length > 0 ? ` ${printable(payload.toString('utf8'))}` : ''}`;
}

const CLOSE_CODE_NAMES = new Map<number, string>(Object.entries(CloseCode).map(([name, code]) => [code, name]));

/** "1000 Normal", "4001 (application)", "1006 Abnormal"… */
export function closeCodeName(code: number): string {
  const name = CLOSE_CODE_NAMES.get(code);
  if (name) return `${code} ${name}`;
  if (code >= 4000 && code <= 4999) return `${code} (private use)`;
  if (code >= 3000 && code <= 3999) return `${code} (registered for libraries)`;
  return `${code} (unknown)`;
}

export function formatClose(code: number, reason: string, wasClean: boolean): string {
  const reasonText = reason === '' ? '' : ` "${printable(reason)}"`;
  return `* closed: ${closeCodeName(code)}${reasonText}${wasClean ? '' : ' (no clean close handshake)'}`;
}

/** wscat's exit status: 0 for a normal ending, 1 for anything else. */
export function exitStatusForClose(code: number, wasClean: boolean): number {
  const normal = code === CloseCode.Normal || code === CloseCode.GoingAway || code === CloseCode.NoStatusReceived;
  return wasClean && normal ? 0 : 1;
}
