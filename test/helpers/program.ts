// Run one of the project's programs (servers/…/main.ts, clients/…/main.ts) as a child process, the way
// a user runs it with npm, and watch what it prints and how it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
/** tsx compiles every module on the first start, and the machine is shared: generous on purpose. */
export const PROGRAM_WAIT_MS = 30_000;

export interface RunningProgram {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The exit status (null after a signal). Rejects if the program is still running after PROGRAM_WAIT_MS. */
  exited: Promise<number | null>;
  /** Resolves with the output so far once it matches `pattern` (stdout and stderr together); rejects if the program exits first. */
  printed(pattern: RegExp): Promise<string>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** `entry` relative to the project root, e.g. "servers/echo/main.ts". */
export function runProgram(entry: string, args: string[] = [], options: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe' } = {}): RunningProgram {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: PROJECT,
    env: options.env ?? process.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const changed = (): void => {
    for (const watcher of watchers) watcher();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    changed();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    changed();
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} ${args.join(' ')} still running after ${PROGRAM_WAIT_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, PROGRAM_WAIT_MS);
    void closed.then((code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  exited.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection

  const printed = (pattern: RegExp): Promise<string> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(stdout + stderr)) return;
      watchers.delete(check);
      clearTimeout(timer);
      resolve(stdout + stderr);
    };
    const timer = setTimeout(() => {
      watchers.delete(check);
      reject(new Error(`no ${pattern} within ${PROGRAM_WAIT_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, PROGRAM_WAIT_MS);
    watchers.add(check);
    void closed.then(() => {
      if (!watchers.has(check)) return;
      watchers.delete(check);
      clearTimeout(timer);
      reject(new Error(`exited before printing ${pattern}; stdout: ${stdout} stderr: ${stderr}`));
    });
    check();
  });

  return { child, stdout: () => stdout, stderr: () => stderr, exited, printed };
}
