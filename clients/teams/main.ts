// `npm run teams`: the team bot-connection manager (seed 002) from the command line. With no --url it
// starts the Global/Team API stand-in in this process, runs against it and prints the stand-in's verdict.
// Exit code: 0 after goodbye (and a clean verdict from an in-process stand-in), 1 otherwise, 2 on bad usage.

import { interruptedExitCode, numberFlag, onShutdownSignal, parseFlags, positiveNumberFlag, refuseFlags, urlFlag, usageError, type Program, type ShutdownSignal } from '../../lib/cli.ts';
import { formatSummary, startTeamsStandin, type TeamsStandin } from './in-process-standin.ts';
import type { LogLevel } from './manager.ts';
import { runTeamManager, type Logger } from './runtime.ts';

const program: Program = {
  name: 'teams',
  usage: `Usage: npm run teams -- [--url ws://host:port/global] [options]

Keeps one WebSocket per team alive for a Global/Team API: answers team.join with team.connect,
reconnects dropped teams (with a fresh URL when the old one stops working) and the Global
connection, pings each team to catch silent connections, answers healthchecks with exact
counts, and closes everything on goodbye.

  --url URL              the Global API (ws://, wss://, http:// or https://). Without it, the
                         stand-in runs in this process with the options below.
  --ping-interval MS     ping each team connection this often (default 5000)
  --pong-timeout MS      cut a team connection whose pong is this late (default 5000)
  --answer-timeout MS    ask again when team.connect is unanswered this long (default 5000)
  --verbose              also log every hello, pong and ignored message
  --quiet                only warnings and errors
  -h, --help             this text

In-process stand-in (refused with --url):
  --teams N              teams that join during the run (default 20)
  --seed N               scenario seed (default 1)
  --duration SECONDS     scenario length in virtual seconds (default 30)
  --time-scale X         virtual seconds per real second (default 1)
  --faults LIST          all, none, or a comma-separated list (default all); see npm run teams-standin -- --help`,
};

const { values } = parseFlags(program, {
  url: { type: 'string' }, 'ping-interval': { type: 'string' }, 'pong-timeout': { type: 'string' }, 'answer-timeout': { type: 'string' },
  verbose: { type: 'boolean' }, quiet: { type: 'boolean' },
  teams: { type: 'string' }, seed: { type: 'string' }, duration: { type: 'string' }, 'time-scale': { type: 'string' }, faults: { type: 'string' },
});

// Checked before anything starts, so a typo never leaves a half-started run behind.
const timing = {
  pingIntervalMs: positiveNumberFlag(program, '--ping-interval', values['ping-interval']) ?? 5_000,
  pongTimeoutMs: positiveNumberFlag(program, '--pong-timeout', values['pong-timeout']) ?? 5_000,
  answerTimeoutMs: positiveNumberFlag(program, '--answer-timeout', values['answer-timeout']) ?? 5_000,
};

const shownLevels: LogLevel[] = values.quiet ? ['warn', 'error'] : values.verbose ? ['debug', 'info', 'warn', 'error'] : ['info', 'warn', 'error'];
const log: Logger = (level, text) => {
  if (!shownLevels.includes(level)) return;
  const line = `${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ${text}`;
  if (level === 'warn' || level === 'error') console.error(line);
  else console.log(line);
};

if (values.url !== undefined) urlFlag(program, '--url', values.url, ['ws:', 'wss:', 'http:', 'https:']);
// A remote Global API plays its own scenario: ignoring these flags would mislead.
if (values.url !== undefined) refuseFlags(program, values, ['teams', 'seed', 'duration', 'time-scale', 'faults'], 'the in-process stand-in (used when no --url is given)');

let standin: TeamsStandin | undefined;
let globalUrl = values.url;
if (globalUrl === undefined) {
  try {
    standin = await startTeamsStandin({
      // The stand-in checks the ranges of --teams and --seed itself.
      teams: numberFlag(program, '--teams', values.teams),
      seed: numberFlag(program, '--seed', values.seed),
      durationMs: (positiveNumberFlag(program, '--duration', values.duration) ?? 30) * 1000,
      timeScale: positiveNumberFlag(program, '--time-scale', values['time-scale']) ?? 1,
      faults: values.faults ?? 'all',
      log: (line) => console.log(`[stand-in] ${line}`),
      verbose: values.verbose ?? false,
    });
  } catch (error) {
    usageError(program, (error as Error).message);
  }
  globalUrl = standin.globalUrl;
  console.log(`[stand-in] listening; Global API at ${globalUrl}`);
}

const run = runTeamManager({
  globalUrl,
  ...timing,
  log,
});

// The run decides what a signal means: the first closes every connection, a second stops waiting.
let signalled: ShutdownSignal | undefined;
onShutdownSignal((signal) => {
  log('info', `${signal}: closing every connection${signalled ? ' now' : ''}`);
  signalled = signal;
  run.stop(signal);
});

let exitCode = await run.done;
if (signalled) exitCode = interruptedExitCode(signalled);
if (standin !== undefined) {
  // The stand-in finishes once the client has closed everything; when stopped early, it is closed here.
  const summary = signalled ? standin.summary() : await standin.done;
  await standin.close();
  if (signalled) console.log(`[stand-in] ${formatSummary(summary)}`);
  if (exitCode === 0 && (summary.mismatches > 0 || summary.openSockets > 0)) exitCode = 1;
}
process.exitCode = exitCode;
