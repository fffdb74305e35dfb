// `npm run teams-standin`: the Global/Team API stand-in (seed 002) alone, for any bot manager to test
// against. Plays a seeded scenario with faults, judges every healthcheck, prints a summary at the end.

import { interruptedExitCode, listenOrExit, numberFlag, onShutdown, parseFlags, portFlag, usageError, type Program } from '../../lib/cli.ts';
import { FAULTS } from './faults.ts';
import { startTeamsStandin, type TeamsStandin } from './standin.ts';

const program: Program = {
  name: 'teams-standin',
  usage: `Usage: npm run teams-standin -- [options]

Serves the Global API on ws://HOST:PORT/global. Teams join over time; each team's connection
(the http:// URL in team.connect) sends hello and a stream of messages, some with "props";
teams leave; healthchecks are judged against what was actually delivered; goodbye at the end.

  --teams N              teams that join during the run (default 20)
  --seed N               scenario seed: same seed, same scenario (default 1)
  --duration SECONDS     scenario length in virtual seconds (default 30)
  --time-scale X         virtual seconds per real second; 10 plays 30 s in 3 s (default 1)
  --healthchecks N       healthchecks during the run, plus one at the end (default 4)
  --faults LIST          all, none, or a comma-separated list of (default all):
${Object.entries(FAULTS).map(([name, description]) => `                           ${name.padEnd(13)} ${description}`).join('\n')}
  --port N               (default 8080; 0 lets the OS pick)
  --host ADDRESS         (default 127.0.0.1)
  --verbose              also log each fault as it is injected
  --keep-running         start a new run for each new Global connection instead of exiting
  -h, --help             this text

Exits 0 when every healthcheck matched and the client closed every socket after goodbye, 1 otherwise.`,
};

const { values } = parseFlags(program, {
  teams: { type: 'string' }, seed: { type: 'string' }, duration: { type: 'string' }, 'time-scale': { type: 'string' },
  healthchecks: { type: 'string' }, faults: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
  'keep-running': { type: 'boolean' }, verbose: { type: 'boolean' },
});

// Only the syntax is checked here: the stand-in itself refuses out-of-range values with a clear message.
const durationSeconds = numberFlag(program, '--duration', values.duration);
const port = portFlag(program, '--port', values.port) ?? 8080;
const host = values.host ?? '127.0.0.1';
let standin: TeamsStandin;
try {
  standin = await listenOrExit(program, { host, port }, () => startTeamsStandin({
    teams: numberFlag(program, '--teams', values.teams),
    seed: numberFlag(program, '--seed', values.seed),
    durationMs: durationSeconds === undefined ? undefined : durationSeconds * 1000,
    timeScale: numberFlag(program, '--time-scale', values['time-scale']),
    healthchecks: numberFlag(program, '--healthchecks', values.healthchecks),
    faults: values.faults ?? 'all',
    port,
    host,
    verbose: values.verbose ?? false,
  }));
} catch (error) {
  usageError(program, (error as Error).message); // listenOrExit passes on only what the options got wrong
}
// Ready for a signal before the banner says we are ready.
const running = standin;
onShutdown(program, async (signal) => {
  console.log(`\n[teams-standin] ${signal}: closing every connection`);
  await running.close();
}, { exitCode: interruptedExitCode });

console.log(`[teams-standin] Global API on ${standin.globalUrl} — waiting for a client (try: npm run teams -- --url ${standin.globalUrl})`);

if (!values['keep-running']) {
  const summary = await standin.done;
  await standin.close();
  process.exitCode = summary.mismatches === 0 && summary.openSockets === 0 && summary.finished ? 0 : 1;
}
