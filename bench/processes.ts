// Child processes of the benchmark: each server under test and each load generator runs in its own
// process (forked with tsx), talking to the orchestrator over the IPC channel with small JSON messages.

import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ChildMessage = { type: string; [key: string]: unknown };

export interface Child {
  process: ChildProcess;
  /** The next message of this type; rejects after `timeoutMs` or when the child exits first. */
  next<T extends ChildMessage>(type: string, timeoutMs?: number): Promise<T>;
  send(message: ChildMessage): void;
  /** Ask the child to stop (SIGTERM), then kill it if it has not exited within a second. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra flags for node (e.g. --expose-gc, --cpu-prof). */
  nodeFlags?: string[];
  /**
   * Raise the child's open-file limit to the hard limit first (a shell wrapper: `ulimit -n`), for a server
   * that must hold tens of thousands of sockets. The child finds the limit in HANDROLLED_FILE_LIMIT.
   */
  raiseFileLimit?: boolean;
  /**
   * Run the child (all its threads) on this CPU only (`taskset`, Linux). A/B tools pin the server and the
   * load generator to different cores, so the two never take turns on one and the rounds vary less.
   */
  cpu?: number;
}

const children = new Set<ChildProcess>();

/** Fork `bench/children/<name>.ts` with `args`. */
export function startChild(name: string, args: string[], options: StartOptions = {}): Child {
  const file = fileURLToPath(new URL(`./children/${name}.ts`, import.meta.url));
  const execArgv = ['--import', 'tsx', ...(options.nodeFlags ?? [])];
  const child = options.raiseFileLimit
    // The IPC channel (fd 3 and NODE_CHANNEL_FD) survives the shell's exec into node.
    ? spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; HANDROLLED_FILE_LIMIT="$(ulimit -n)" exec "$0" "$@"', process.execPath, ...execArgv, file, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    : fork(file, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  if (options.cpu !== undefined) pinToCpu(child, options.cpu);
  const inbox: ChildMessage[] = [];
  const waiters: Array<{ type: string; resolve(message: ChildMessage): void; reject(error: Error): void }> = [];
  let exitError: Error | undefined;

  child.on('message', (raw) => {
    const message = raw as ChildMessage;
    if (message.type === 'error') {
      failAll(new Error(`${name} ${args.join(' ')}: ${String(message.message)}`));
      return;
    }
    const index = waiters.findIndex((waiter) => waiter.type === message.type);
    if (index === -1) inbox.push(message);
    else waiters.splice(index, 1)[0].resolve(message);
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    failAll(new Error(`${name} ${args.join(' ')} exited (${signal ?? code}) before answering`));
  });

  function failAll(error: Error): void {
    exitError ??= error;
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  }

  return {
    process: child,
    next<T extends ChildMessage>(type: string, timeoutMs = 120_000): Promise<T> {
      const queued = inbox.findIndex((message) => message.type === type);
      if (queued !== -1) return Promise.resolve(inbox.splice(queued, 1)[0] as T);
      if (exitError) return Promise.reject(exitError);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index !== -1) waiters.splice(index, 1);
          reject(new Error(`${name} ${args.join(' ')}: no '${type}' within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          type,
          resolve: (message: ChildMessage) => { clearTimeout(timer); resolve(message as T); },
          reject: (error: Error) => { clearTimeout(timer); reject(error); },
        };
        waiters.push(waiter);
      });
    },
    send(message: ChildMessage): void {
      if (child.connected) child.send(message);
    },
    stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 1000);
        child.once('exit', () => { clearTimeout(killTimer); resolve(); });
        child.kill('SIGTERM');
      });
    },
  };
}

/** Kill every child still running (on Ctrl-C or a failure), so no server outlives the bench. */
export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** A server child's CPU counters: its own process.cpuUsage and the wall clock, in microseconds. */
export type CpuMark = ChildMessage & { cpuMicroseconds: number; wallMicroseconds: number };

/** Read a server child's CPU counters now (it runs `answerCpuMarks`): two reads bracket a measured interval. */
export function cpuMark(server: Child): Promise<CpuMark> {
  server.send({ type: 'cpu-mark' });
  return server.next<CpuMark>('cpu');
}

// ── Inside a child ──────────────────────────────────────────────────────────────────────────────

/** Send a message to the orchestrator. */
export function report(message: ChildMessage): void {
  process.send?.(message);
}

/** Run a child's main function: report failures as an 'error' message; exit when the parent goes away. */
export function runChild(main: () => Promise<void>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  main().catch((error: unknown) => {
    report({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) });
    setTimeout(() => process.exit(1), 100);
  });
}

/** In a server child: answer every 'cpu-mark' from the orchestrator with this process's CPU counters (see cpuMark). */
export function answerCpuMarks(): void {
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'cpu-mark') return;
    const usage = process.cpuUsage();
    report({ type: 'cpu', cpuMicroseconds: usage.user + usage.system, wallMicroseconds: Number(process.hrtime.bigint() / 1000n) });
  });
}

/** Wait for one message of `type` from the orchestrator. */
export function fromParent<T extends ChildMessage>(type: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (raw: unknown): void => {
      const message = raw as ChildMessage;
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message as T);
    };
    process.on('message', listener);
  });
}

/** Pin a running child and its threads to one CPU; a machine without taskset runs it unpinned, and says so. */
function pinToCpu(child: ChildProcess, cpu: number): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(child.pid)], { stdio: 'ignore' });
  if (result.status !== 0) console.error(`bench: could not pin a child to CPU ${cpu} (taskset ${result.error?.message ?? `exit ${result.status}`}); running it unpinned`);
}
