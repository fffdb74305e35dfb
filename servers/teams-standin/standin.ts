// The Global/Team API stand-in (seed 002) on a Router: `/global` for the Global connection and
// `/team/:teamId/:token` for the team URLs it hands out. `registerTeamsStandin` mounts it on any
// router (the all-in-one server); `startTeamsStandin` runs it alone on node:http.

import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { urlHost } from '../../lib/cli.ts';
import { serveWithNodeHttp } from '../../lib/http/node-adapter.ts';
import { json } from '../../lib/http/responses.ts';
import { Router } from '../../lib/http/router.ts';
import { parseFaults, type Fault } from './faults.ts';
import { StandinRun, type Summary } from './run.ts';
import { buildScenario } from './scenario.ts';

export type { Summary } from './run.ts';
export { formatSummary } from './run.ts';

export interface TeamsStandinOptions {
  /** How many teams join during the run (default 20). */
  teams?: number;
  /** Same seed, same scenario (default 1). */
  seed?: number;
  /** Length of the scenario in virtual milliseconds (default 30 s). */
  durationMs?: number;
  /** Virtual milliseconds per real one: 10 plays a 30 s scenario in 3 s (default 1). */
  timeScale?: number;
  /** A set, or `all`, `none`, or a comma-separated list (default all). */
  faults?: ReadonlySet<Fault> | string;
  /** Healthchecks during the run, besides the final one (default 4). */
  healthchecks?: number;
  /** Mean virtual gap between two messages of a team (default 500 ms). */
  messageIntervalMs?: number;
  /** Prefix of every path: '' serves `/global`, '/teams' serves `/teams/global` (default ''). */
  basePath?: string;
  /** Real-time bounds on the client: reconnecting and answering a healthcheck (10 s), a ping round trip (5 s), closing after goodbye (5 s). */
  quietPointTimeoutMs?: number;
  roundTripTimeoutMs?: number;
  goodbyeGraceMs?: number;
  /** Where verdicts and the summary go (default console.log). */
  log?: (line: string) => void;
  /** Also log each fault as it is injected (default false). */
  verbose?: boolean;
}

export interface TeamsStandinRegistration {
  /** The current (or last) run's numbers so far. */
  summary(): Summary;
  /** Settles when the first run is over (after goodbye, or when closed early). */
  done: Promise<Summary>;
  close(): Promise<void>;
}

export interface TeamsStandin extends TeamsStandinRegistration {
  globalUrl: string;
  port: number;
}

function checkInteger(name: string, value: number, low: number, high: number): number {
  if (!Number.isInteger(value) || value < low || value > high) throw new RangeError(`${name} must be an integer from ${low} to ${high}, not ${value}`);
  return value;
}

function checkPositive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, not ${value}`);
  return value;
}

/** Mount the stand-in's routes. Each new Global connection after a finished run starts a fresh run. */
export function registerTeamsStandin(router: Router, options: TeamsStandinOptions = {}): TeamsStandinRegistration {
  const teams = checkInteger('teams', options.teams ?? 20, 1, 100_000);
  const seed = checkInteger('seed', options.seed ?? 1, 0, 2 ** 32 - 1);
  const durationMs = checkPositive('duration', options.durationMs ?? 30_000);
  const timeScale = checkPositive('time scale', options.timeScale ?? 1);
  const healthchecks = checkInteger('healthchecks', options.healthchecks ?? 4, 0, 1_000);
  const messageIntervalMs = checkPositive('message interval', options.messageIntervalMs ?? 500);
  const faults = typeof options.faults === 'string' || options.faults === undefined ? parseFaults(options.faults ?? 'all') : options.faults;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !basePath.startsWith('/')) throw new Error(`basePath must start with "/": ${basePath}`);

  const newRun = (): StandinRun => new StandinRun({
    scenario: buildScenario({ teams, seed, durationMs, faults, healthchecks, messageIntervalMs }),
    seed, teams, faults, timeScale, basePath,
    quietPointTimeoutMs: options.quietPointTimeoutMs ?? 10_000,
    roundTripTimeoutMs: options.roundTripTimeoutMs ?? 5_000,
    goodbyeGraceMs: options.goodbyeGraceMs ?? 5_000,
    log: options.log ?? ((line) => console.log(`[teams-standin] ${line}`)),
    verbose: options.verbose ?? false,
  });
  /** Runs not yet over: a finished run may still be closing its sockets when the next one starts. */
  const runs = new Set<StandinRun>();
  const startRun = (): StandinRun => {
    const next = newRun();
    runs.add(next);
    void next.done.then(() => runs.delete(next));
    return next;
  };
  let run = startRun();
  const firstDone = run.done;

  router.get(`${basePath}/summary`, () => json(run.summary()));
  router.ws(`${basePath}/global`, (connection, request) => {
    if (run.state === 'over') run = startRun();
    run.acceptGlobal(connection, request.headers.host);
  }, { maxMessageBytes: 4 * 1024 * 1024, closeTimeoutMs: 2_000 });
  router.ws(`${basePath}/team/:teamId/:token`, (connection, request) => run.acceptTeam(connection, request.params.teamId!), {
    beforeUpgrade: (request) => run.checkTeamUpgrade(request.params.teamId!, request.params.token!),
    maxMessageBytes: 64 * 1024,
    closeTimeoutMs: 2_000,
  });

  return {
    summary: () => run.summary(),
    done: firstDone,
    close: async () => {
      await Promise.all([...runs].map((each) => each.abort()));
    },
  };
}

/** Run the stand-in alone on node:http; port 0 lets the OS pick. */
export async function startTeamsStandin(options: TeamsStandinOptions & { port?: number; host?: string } = {}): Promise<TeamsStandin> {
  const router = new Router();
  const registration = registerTeamsStandin(router, options);
  const server = serveWithNodeHttp(router);
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    globalUrl: `ws://${urlHost(host)}:${port}${options.basePath ?? ''}/global`,
    port,
    summary: registration.summary,
    done: registration.done,
    async close() {
      await registration.close();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
