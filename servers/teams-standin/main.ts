// `npm run teams-standin`: the Global/Team API stand-in (seed 002) alone, for any bot manager to test
// against. Plays a seeded scenario with faults, judges every healthcheck, prints a summary at the end.

import { parseArgs } from 'node:util';
import { FAULTS } from './faults.ts';
import { startTeamsStandin, type TeamsStandin } from './standin.ts';

const USAGE = `Usage: npm run teams-standin -- [options]

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

Exits 0 when every healthcheck matched and the client closed every socket after goodbye, 1 otherwise.`;

function fail(message: string): never {
  console.error(`teams-standin: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      teams: { type: 'string' }, seed: { type: 'string' }, duration: { type: 'string' }, 'time-scale': { type: 'string' },
      healthchecks: { type: 'string' }, faults: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
      'keep-running': { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
let standin: TeamsStandin;
try {
  standin = await startTeamsStandin({
    teams: number(values.teams),
    seed: number(values.seed),
    durationMs: values.duration === undefined ? undefined : Number(values.duration) * 1000,
    timeScale: number(values['time-scale']),
    healthchecks: number(values.healthchecks),
    faults: values.faults ?? 'all',
    port: number(values.port) ?? 8080,
    host: values.host ?? '127.0.0.1',
    verbose: values.verbose ?? false,
  });
} catch (error) {
  fail((error as Error).message);
}
console.log(`[teams-standin] Global API on ${standin.globalUrl} — waiting for a client (try: npm run teams -- --url ${standin.globalUrl})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n[teams-standin] ${signal}: closing every connection`);
    void standin.close().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

if (!values['keep-running']) {
  const summary = await standin.done;
  await standin.close();
  process.exitCode = summary.mismatches === 0 && summary.openSockets === 0 && summary.finished ? 0 : 1;
}
