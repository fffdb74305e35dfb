// `npm start -- --workers N --redis URL`: N processes of the same server on the same ports, one machine's
// cores put to work. node:cluster does the port sharing: the primary owns the listening sockets and hands
// each new connection to a worker in turn (round-robin), so HTTP, WebSocket and telnet clients spread over
// the workers, and Redis (the shared mode) makes them one service.
//
// The primary serves nothing itself. It starts the workers, shows the first worker's banner once, starts
// a new worker when one dies, and on SIGINT/SIGTERM tells every worker to stop (each closes its
// WebSockets with 1001 and says goodbye in the chat) and exits 0 once they all have.

import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';
import { onShutdown, usageError, wholeNumberFlag, type Program, type ShutdownSignal } from '../../lib/cli.ts';

/** The banner's last line: up to it a worker's output is its banner, after it the worker is serving. */
const BANNER_END = 'Ctrl-C to stop.';
const SHUTDOWN_MESSAGE = 'handrolled:shutdown';
/** A worker that dies sooner than this after starting is restarted after a growing delay (a crash loop must not spin). */
const QUICK_DEATH_MS = 5_000;
const MAX_RESTART_DELAY_MS = 10_000;
export const MAX_WORKERS = 64;

/** `--workers N`: 1 by default; more than 1 only with Redis, which is what makes the processes one service. */
export function workersFlag(program: Program, text: string | undefined, redisUrl: string | undefined): number {
  const workers = wholeNumberFlag(program, '--workers', text, 1, MAX_WORKERS) ?? 1;
  if (workers > 1 && redisUrl === undefined) {
    usageError(program, `--workers ${workers} needs --redis URL (or REDIS_URL): without a shared Redis each worker would be a separate chat, separate rooms and separate counts`);
  }
  return workers;
}

export const isWorkerProcess = (): boolean => cluster.isWorker;

/**
 * In a worker: stop when the primary says so, through the same shutdown as a signal (`beginShutdown`
 * is what onShutdown returned). Elsewhere: nothing.
 */
export function followPrimary(beginShutdown: (signal: ShutdownSignal) => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE) beginShutdown('SIGTERM');
  });
}

interface Slot {
  number: number;
  worker: Worker;
  startedAt: number;
  ready: boolean;
  everReady: boolean;
  quickDeaths: number;
}

/** In the primary: run `count` workers (this same program, same arguments) until SIGINT/SIGTERM. */
export function runWorkers(program: Program, count: number, shutdownDeadlineMs: number): void {
  const log = (line: string): void => console.log(`${program.name}: ${line}`);
  const slots: Slot[] = [];
  let bannerShown = false;
  let allReadyAnnounced = false;
  let stopping = false;

  cluster.setupPrimary({ silent: true });

  const start = (number: number, quickDeaths: number): void => {
    const worker = cluster.fork({ HANDROLLED_WORKER: String(number) });
    const slot: Slot = { number, worker, startedAt: Date.now(), ready: false, everReady: slots[number - 1]?.everReady ?? false, quickDeaths };
    slots[number - 1] = slot;
    forwardOutput(slot);
    worker.on('exit', (code: number | null, signal: string | null) => exited(slot, code, signal));
  };

  const forwardOutput = (slot: Slot): void => {
    const prefix = `[worker ${slot.number}] `;
    createInterface({ input: slot.worker.process.stdout! }).on('line', (line) => {
      if (slot.ready) return console.log(prefix + line);
      // The banner: shown once, from the first worker to finish it; the others' would say the same.
      if (!bannerShown) console.log(line);
      if (line === BANNER_END) becameReady(slot);
    });
    createInterface({ input: slot.worker.process.stderr! }).on('line', (line) => console.error(prefix + line));
  };

  const becameReady = (slot: Slot): void => {
    slot.ready = true;
    bannerShown = true;
    if (slot.everReady) log(`worker ${slot.number} restarted (pid ${slot.worker.process.pid})`);
    slot.everReady = true;
    if (!allReadyAnnounced && slots.length === count && slots.every((each) => each.ready)) {
      allReadyAnnounced = true;
      log(`${count} workers ready on the same ports (pids ${slots.map((each) => each.worker.process.pid).join(', ')}); Ctrl-C stops them all`);
    }
  };

  const exited = (slot: Slot, code: number | null, signal: string | null): void => {
    if (stopping) return;
    const how = signal === null ? `exit code ${code}` : signal;
    if (!slot.everReady) {
      // It never served: a bad port, a bad flag. Restarting would only fail again.
      log(`worker ${slot.number} failed to start (${how}); stopping`);
      stopAll();
      process.exitCode = 1;
      return;
    }
    const quickDeaths = Date.now() - slot.startedAt < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    const delayMs = quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** quickDeaths);
    log(`worker ${slot.number} (pid ${slot.worker.process.pid}) died (${how}); starting another${delayMs > 0 ? ` in ${delayMs} ms` : ''}`);
    setTimeout(() => {
      if (!stopping) start(slot.number, quickDeaths);
    }, delayMs);
  };

  const stopAll = (): Promise<void> => {
    stopping = true;
    return Promise.all(slots.map((slot) => new Promise<void>((resolve) => {
      const { worker } = slot;
      if (worker.isDead()) return resolve();
      worker.once('exit', () => resolve());
      if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
      else worker.kill('SIGTERM');
    }))).then(() => {});
  };

  onShutdown(program, async (signal) => {
    log(`${signal}: stopping ${count} workers (each closes its WebSockets with 1001)`);
    await stopAll();
    log('every worker stopped');
  }, {
    // Past the workers' own deadline, cut them: the primary must not exit and leave them behind.
    forceAfterMs: shutdownDeadlineMs + 2_000,
    ignoreRepeatedSignals: false,
  });
  process.once('exit', () => {
    for (const slot of slots) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
  });

  for (let number = 1; number <= count; number++) start(number, 0);
}
