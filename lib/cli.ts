// The command-line plumbing every program here shares: flags parsed with node:util's parseArgs,
// `--help`, usage errors (exit 2), number flags checked with a clear message, and a clean shutdown
// on SIGINT/SIGTERM (the first signal closes politely, a second one exits at once).

import { parseArgs, type ParseArgsConfig } from 'node:util';

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
    usageError(program, error instanceof Error ? error.message : String(error));
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${program.usage.trimEnd()}\n`);
    process.exit(0);
  }
  return parsed;
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

export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** Run `handler` on every SIGINT and SIGTERM: for programs that decide themselves what a repeated signal means. */
export function onShutdownSignal(handler: (signal: ShutdownSignal) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => handler(signal));
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
