// `npm start` as a child process for tests that need real processes (the shared mode, --workers): started
// on ports the OS picks, ready once its banner says where it listens, with its output kept for asserts.

import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = 'servers/north-pole.ts';
/** tsx compiles every module on first start; a loaded two-core machine needs the margin. */
export const START_WAIT_MS = 30_000;

export interface NorthPoleProcess {
  child: ChildProcess;
  port: number;
  chatPort: number | undefined;
  output(): string;
  exited: Promise<number | null>;
  /** Resolve once the output (from the start) matches `pattern`; reject if the process exits first or after `timeoutMs`. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

const started: ChildProcess[] = [];

/** SIGKILL whatever is still running: for `after()`. */
export function killAllNorthPoles(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * Start the server with `--port 0` plus `args` and wait for the end of its banner ("Ctrl-C to stop.").
 * `ready` (default: the banner's last line) is what to wait for, e.g. every worker reporting ready.
 */
export async function startNorthPole(args: string[], options: { env?: NodeJS.ProcessEnv; ready?: RegExp } = {}): Promise<NorthPoleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--port', '0', ...args], {
    cwd: PROJECT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REDIS_URL: '', ...options.env },
  });
  started.push(child);
  let output = '';
  const watchers = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const watcher of watchers) watcher();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code);
    for (const watcher of watchers) watcher();
  }));
  const printed = (pattern: RegExp, timeoutMs = START_WAIT_MS): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      watchers.delete(check);
    };
    const check = (): void => {
      const match = pattern.exec(output);
      if (match !== null) {
        finish();
        resolve(match);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        finish();
        reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output:\n${output}`));
      }
    };
    const timer = setTimeout(() => {
      watchers.delete(check);
      reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    watchers.add(check);
    check();
  });
  await printed(options.ready ?? /Ctrl-C to stop\./);
  const listening = /^listening on http:\/\/[^:]+:(\d+)\//m.exec(output);
  if (listening === null) throw new Error(`no "listening on" line; output:\n${output}`);
  const chat = /BATCHAT \(telnet\)\s+\S+ port (\d+)/.exec(output);
  return { child, port: Number(listening[1]), chatPort: chat ? Number(chat[1]) : undefined, output: () => output, exited, printed };
}

/** One HTTP request on loopback, without keep-alive: the status and the body as text. */
export function httpCall(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, timeout: START_WAIT_MS }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
