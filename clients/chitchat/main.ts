// Command line for the chit-chat solver: `npm run chitchat` solves an in-process stand-in;
// `npm run chitchat -- --base https://hackattic.com --access-token T` solves the real challenge.
// Exit code 0 when the solve endpoint accepted the secret, 1 when it did not, 2 for bad usage.

import { interruptedExitCode, numberFlag, onShutdown, parseFlags, printable, refuseFlags, urlFlag, usageError, wholeNumberFlag, type Program } from '../../lib/cli.ts';
import { DEFAULT_ROUNDS, startChitchatStandin, type ChitchatStandin } from './in-process-standin.ts';
import { solveChitchat } from './solver.ts';

const HACKATTIC = 'https://hackattic.com';

const program: Program = {
  name: 'chitchat',
  usage: `Usage: npm run chitchat -- [options]

Solves hackattic's "WebSocket chit chat": measures the time between the server's pings, answers
each with the nearest of 700/1500/2000/2500/3000 ms, and submits the secret it earns.
With no --base (and no --access-token), it starts the local stand-in in this process and solves that.

Options:
  --base URL           the service (e.g. ${HACKATTIC}, or a stand-in's http://127.0.0.1:8765)
  --access-token T     your access token (default: $HACKATTIC_ACCESS_TOKEN; given alone, --base is ${HACKATTIC})
  --attempts N         conversations to try before giving up (default 3)
  --time-scale X       the stand-in's time scale (default 1; must match the stand-in's --time-scale)

Only for the in-process stand-in (refused with --base or --access-token):
  --rounds N           correct answers before the secret (default ${DEFAULT_ROUNDS})
  --jitter-ms N        deliver each ping up to N ms early or late (default 0)
  --seed TEXT          reproducible intervals and secret
  --help               show this help`,
};

const { values: flags } = parseFlags(program, {
  base: { type: 'string' },
  'access-token': { type: 'string' },
  attempts: { type: 'string' },
  'time-scale': { type: 'string' },
  rounds: { type: 'string' },
  'jitter-ms': { type: 'string' },
  seed: { type: 'string' },
});

const attempts = wholeNumberFlag(program, '--attempts', flags.attempts, 1, 100) ?? 3;
const timeScale = numberFlag(program, '--time-scale', flags['time-scale']) ?? 1;
if (timeScale <= 0 || timeScale > 100) usageError(program, `--time-scale must be a number above 0 and at most 100, got "${flags['time-scale']}"`);
const remote = flags.base !== undefined || flags['access-token'] !== undefined;
// A remote service has its own rounds and intervals: ignoring these flags would mislead.
if (remote) refuseFlags(program, flags, ['rounds', 'jitter-ms', 'seed'], 'the in-process stand-in (used when neither --base nor --access-token is given)');

let standin: ChitchatStandin | undefined;
let base: string;
let accessToken: string;
if (remote) {
  base = urlFlag(program, '--base', flags.base ?? HACKATTIC, ['http:', 'https:']);
  accessToken = flags['access-token'] ?? process.env.HACKATTIC_ACCESS_TOKEN ?? '';
  if (accessToken === '') usageError(program, 'an access token is needed: --access-token T or HACKATTIC_ACCESS_TOKEN');
} else {
  try {
    standin = await startChitchatStandin({
      timeScale,
      // Only the syntax is checked here: the stand-in refuses out-of-range values with a clear message.
      rounds: numberFlag(program, '--rounds', flags.rounds),
      jitterMs: numberFlag(program, '--jitter-ms', flags['jitter-ms']),
      seed: flags.seed,
    });
  } catch (error) {
    usageError(program, (error as Error).message);
  }
  base = standin.url;
  accessToken = 'local';
  console.log(`started the chit-chat stand-in at ${base}${timeScale === 1 ? '' : ` (time scale ${timeScale}; times below are in service ms)`}`);
}

onShutdown(program, async (signal) => {
  console.log(`\n${signal}: giving up`);
  await standin?.close();
}, { exitCode: interruptedExitCode });

const result = await solveChitchat({ base, accessToken, attempts, timeScale, log: (line) => console.log(line) });
await standin?.close();
if (result.ok) {
  console.log(`solved: the secret "${printable(result.secret ?? '')}" was accepted`);
} else {
  console.log(result.secret === undefined ? `not solved after ${attempts} attempt(s)` : `the secret "${printable(result.secret)}" was not accepted`);
}
process.exitCode = result.ok ? 0 : 1;
