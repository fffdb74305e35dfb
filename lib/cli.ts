// The command-line plumbing every program here shares: flags parsed with node:util's parseArgs,
// `--help`, usage errors (exit 2), number flags checked with a clear message, one line and exit 1
// when a server cannot listen, URLs with IPv6 hosts in brackets (RFC 3986 §3.2.2), a peer's text made
// safe for the terminal, the --tls-cert/--tls-key pair of the programs that serve https:// and
// wss://, and a clean shutdown on SIGINT/SIGTERM (the first signal closes politely, a
// second one exits at once).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadTlsCredentials, TlsFileError, type TlsCredentials } from './http/tls.ts';

/** Who is talking on stderr, and the text `--help` prints. */
export interface Program {
  /** Prefixes every error line: "batchat: --port must be…". */
  name: string;
  usage: string;
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;
type ParsedFlags<Options extends FlagOptions> = ReturnType<typeof parseArgs<{ options: Options; allowPositionals: boolean; strict: true }>>;

/** Print the message and the usage on stderr, then exit 2: the conventional status for bad usage. */
export function usageError(program: Program, message: string): never {
  process.stderr.write(`${program.name}: ${message}\n\n${program.usage.trimEnd()}\n`);
  process.exit(2);
}

/**
 * parseArgs in strict mode, plus `-h`/`--help` (usage on stdout, exit 0). An unknown flag, a missing
 * value or an unexpected positional argument is a usage error instead of an exception.
 */
export function parseFlags<Options extends FlagOptions>(program: Program, options: Options, { allowPositionals = false } = {}): ParsedFlags<Options> {
  let parsed: ParsedFlags<Options>;
  try {
    parsed = parseArgs<{ options: Options; allowPositionals: boolean; strict: true }>({
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    let message = error instanceof Error ? error.message : String(error);
    // With positionals allowed, Node adds a tip about "--" that reads as noise after a typo: keep the first sentence.
    if ((error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') message = message.split('. ')[0]!;
    usageError(program, message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${program.usage.trimEnd()}\n`);
    process.exit(0);
  }
  return parsed;
}

/**
 * Refuse flags that mean nothing in the mode the other flags chose, rather than silently ignore them:
 * "--rounds is only for the in-process stand-in (…)". `names` without dashes, in the order listed; for
 * flags without a default (a default would always count as given).
 */
export function refuseFlags(program: Program, values: Record<string, unknown>, names: readonly string[], onlyFor: string): void {
  const given = names.filter((name) => values[name] !== undefined).map((name) => `--${name}`);
  if (given.length > 0) usageError(program, `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} only for ${onlyFor}`);
}

/** A URL with one of `schemes` (e.g. ['ws:', 'wss:']), or a usage error naming them. */
export function urlFlag(program: Program, name: string, text: string, schemes: readonly string[]): string {
  let scheme: string | undefined;
  try {
    scheme = new URL(text).protocol;
  } catch {
    scheme = undefined;
  }
  if (scheme === undefined || !schemes.includes(scheme)) {
    const names = schemes.map((each) => `${each}//`);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
    usageError(program, `${name} must be a ${list} URL, got "${text}"`);
  }
  return text;
}

/** A TCP port, 0–65535 (0 lets the OS pick). `name` is what the user typed: "--port", or "PORT" for the variable. */
export function portFlag(program: Program, name: string, text: string | undefined): number | undefined {
  return checkWholeNumber(program, name, text, 0, 65_535, 'a port number from 0 to 65535');
}

/** Digits only (no sign, no exponent, no hexadecimal), from `min` to `max`. */
export function wholeNumberFlag(program: Program, name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return checkWholeNumber(program, name, text, min, max, describeWholeRange(min, max));
}

/** Any finite number JavaScript reads ("2.5", "1e3"); the range is left to the code that uses it. */
export function numberFlag(program: Program, name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const number = Number(text);
  // Number('') and Number('  ') are 0, which the user did not type.
  if (text.trim() === '' || !Number.isFinite(number)) usageError(program, `${name} must be a number, got "${text}"`);
  return number;
}

/** A finite number above 0: a time scale, a duration, a timeout. */
export function positiveNumberFlag(program: Program, name: string, text: string | undefined): number | undefined {
  const number = numberFlag(program, name, text);
  if (number !== undefined && number <= 0) usageError(program, `${name} must be a positive number, got "${text}"`);
  return number;
}

/**
 * `--allowed-origin URL`, repeatable: each value must be an origin as browsers send it — scheme, host and
 * an optional port, nothing after ("https://example.com", "http://localhost:8000"). Undefined when none was given.
 */
export function originFlags(program: Program, name: string, texts: string[] | undefined): string[] | undefined {
  if (texts === undefined || texts.length === 0) return undefined;
  return texts.map((text) => {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    const bare = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username;
    if (!bare || url === undefined) {
      usageError(program, `${name} must be an origin such as https://example.com or http://localhost:8000, got "${text}"`);
    }
    return url.origin;
  });
}

function checkWholeNumber(program: Program, name: string, text: string | undefined, min: number, max: number, description: string): number | undefined {
  if (text === undefined) return undefined;
  const number = Number(text);
  if (!isDigits(text) || number < min || number > max) usageError(program, `${name} must be ${description}, got "${text}"`);
  return number;
}

function isDigits(text: string): boolean {
  // 16 digits already pass Number.MAX_SAFE_INTEGER; longer input is refused before Number() rounds it.
  if (text.length === 0 || text.length > 16) return false;
  for (const character of text) {
    if (character < '0' || character > '9') return false;
  }
  return true;
}

function describeWholeRange(min: number, max: number): string {
  if (max < Number.MAX_SAFE_INTEGER) return `a whole number from ${min} to ${max}`;
  if (min === 0) return 'a whole number';
  if (min === 1) return 'a positive whole number';
  return `a whole number of at least ${min}`;
}

/**
 * Text from a peer made safe to print on a terminal, and still readable: C0 controls and DEL become
 * their Unicode control pictures (ESC → ␛, CR → ␍, LF → ␊; only TAB is kept), C1 controls and the
 * bidirectional overrides become <U+XXXX>. Everything else is printed as it came, so what a peer
 * sent is quoted verbatim, but it can neither move the cursor nor reorder the line.
 */
export function printable(text: string): string {
  // Fast path: most text has nothing to replace.
  if (!UNPRINTABLE.test(text)) return text;
  return text.replace(UNPRINTABLE_ALL, (character) => {
    const code = character.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

// C0 except TAB, DEL, C1, and the bidirectional embedding/override/isolate controls (Trojan Source).
const UNPRINTABLE_SOURCE = '[\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]';
const UNPRINTABLE = new RegExp(UNPRINTABLE_SOURCE);
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE_SOURCE, 'g');

/** A host as it goes into a URL: an IPv6 literal in brackets (ws://[::1]:9001/), anything else unchanged. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Where a server listens, for the error line that says it could not. */
export interface ListenAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
  /** Which of the program's listeners, when it has several ("BATCHAT"). */
  what?: string;
  /** Appended when the port itself is the problem: "use --port N". */
  portAdvice?: string;
}

/**
 * The one line a program prints when it cannot listen: "cannot listen on 127.0.0.1:8000: the port is
 * already in use". undefined when `error` is not a failure to listen (a bad option, a bug).
 */
export function formatListenError(error: unknown, address: ListenAddress): string | undefined {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  // Node tags a failed bind with syscall "listen" and a failed host lookup with "getaddrinfo".
  if (typeof code !== 'string' || (syscall !== 'listen' && syscall !== 'getaddrinfo')) return undefined;
  const where = `${address.host === undefined ? '*' : urlHost(address.host)}:${address.port}${address.what === undefined ? '' : ` (${address.what})`}`;
  const portAdvice = address.portAdvice === undefined ? '' : ` (${address.portAdvice})`;
  let reason: string;
  switch (code) {
    case 'EADDRINUSE': reason = `the port is already in use${portAdvice}`; break;
    case 'EACCES': reason = `permission denied (ports below 1024 need privileges)${portAdvice}`; break;
    case 'EADDRNOTAVAIL': reason = 'no network interface of this machine has that address'; break;
    case 'ENOTFOUND': reason = 'no such host'; break;
    case 'EAI_AGAIN': reason = 'the host name could not be looked up right now (EAI_AGAIN)'; break;
    default: reason = (error as Error).message;
  }
  return `cannot listen on ${where}: ${reason}`;
}

/**
 * Run `listen`; if it fails to listen, print the one line of formatListenError on stderr and exit 1
 * (not 2: the command was right, the machine said no). Any other error is thrown on to the caller.
 */
export async function listenOrExit<T>(program: Program, address: ListenAddress, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const line = formatListenError(error, address);
    if (line === undefined) throw error;
    process.stderr.write(`${program.name}: ${line}\n`);
    process.exit(1);
  }
}

export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** Run `handler` on every SIGINT and SIGTERM: for programs that decide themselves what a repeated signal means. */
export function onShutdownSignal(handler: (signal: ShutdownSignal) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => handler(signal));
}

/** The status of a program that reports being interrupted: 128 + the signal's number, as a shell shows it. */
export function interruptedExitCode(signal: ShutdownSignal): number {
  return signal === 'SIGINT' ? 130 : 143;
}

export interface ShutdownOptions {
  /** Exit anyway this long after the first signal, even if `close` has not finished. */
  forceAfterMs?: number;
  /** Exit status once stopped by `signal` (default 0: a requested stop is a success). */
  exitCode?: (signal: ShutdownSignal) => number;
  /**
   * Ignore a repeated signal instead of exiting at once. For a cluster worker: Ctrl-C reaches every
   * process of the terminal's group while the primary relays the stop too, so one stop can arrive twice.
   */
  ignoreRepeatedSignals?: boolean;
}

/**
 * On the first SIGINT/SIGTERM run `close`, then exit (0 unless `exitCode` says otherwise; 1, with the
 * reason on stderr, if `close` fails). A second signal exits 1 at once: Ctrl-C twice means "now".
 * Returns a function that starts the same shutdown without a signal (once; later calls do nothing).
 */
export function onShutdown(program: Program, close: (signal: ShutdownSignal) => Promise<void>, options: ShutdownOptions = {}): (signal: ShutdownSignal) => void {
  let closing = false;
  onShutdownSignal((signal) => {
    if (closing) {
      if (options.ignoreRepeatedSignals) return;
      process.stderr.write(`${program.name}: ${signal} again, exiting at once\n`);
      process.exit(1);
    }
    begin(signal);
  });
  const begin = (signal: ShutdownSignal): void => {
    if (closing) return;
    closing = true;
    const exitCode = options.exitCode?.(signal) ?? 0;
    if (options.forceAfterMs !== undefined) {
      const forceAfterMs = options.forceAfterMs;
      // unref: when close() finishes first, this timer must not hold the process open.
      setTimeout(() => {
        process.stderr.write(`${program.name}: still closing after ${forceAfterMs} ms; cutting the remaining connections\n`);
        process.exit(exitCode);
      }, forceAfterMs).unref();
    }
    // Promise.resolve().then: a close that throws synchronously is reported like one that rejects.
    Promise.resolve().then(() => close(signal)).then(
      () => process.exit(exitCode),
      (error: unknown) => {
        process.stderr.write(`${program.name}: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  return begin;
}

/** The flags of every program that can serve TLS; spread into parseFlags' options. */
export const TLS_FLAGS = { 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } } as const;

/**
 * The credentials named by --tls-cert and --tls-key: both or neither (a usage error otherwise), read and checked
 * now, so a file that cannot be used is one line on stderr and exit 1 before anything listens.
 */
export function tlsFlags(program: Program, certPath: string | undefined, keyPath: string | undefined): TlsCredentials | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) usageError(program, '--tls-cert and --tls-key go together: give both or neither');
  try {
    return loadTlsCredentials(certPath, keyPath);
  } catch (error) {
    if (!(error instanceof TlsFileError)) throw error;
    process.stderr.write(`${program.name}: ${error.message}\n`);
    process.exit(1);
  }
}
