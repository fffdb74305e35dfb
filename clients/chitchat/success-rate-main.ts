// `node --import tsx clients/chitchat/success-rate-main.ts --runs 50 --jitter-ms 50`: the solver's
// success rate over many seeded conversations run at once against a jittery in-process stand-in.

import { parseArgs } from 'node:util';
import { measureSuccessRate } from './success-rate.ts';

const USAGE = `Usage: node --import tsx clients/chitchat/success-rate-main.ts [options]

  --runs N          conversations, all at once, one attempt each (default 50)
  --time-scale X    the stand-in's time scale (default 0.1)
  --jitter-ms N     each ping up to N service ms early or late (default 50: 10% of the smallest gap)
  --rounds N        correct answers needed per conversation (default 12)
  --seed TEXT       the stand-in's seed (default "success-rate")
  --help            show this help
`;

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    'time-scale': { type: 'string', default: '0.1' },
    'jitter-ms': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '12' },
    seed: { type: 'string', default: 'success-rate' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const options = {
  runs: Number(flags.runs),
  timeScale: Number(flags['time-scale']),
  jitterMs: Number(flags['jitter-ms']),
  rounds: Number(flags.rounds),
  seed: flags.seed,
};
if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 1000) {
  process.stderr.write(`--runs must be a whole number from 1 to 1000\n\n${USAGE}`);
  process.exit(2);
}

const started = performance.now();
let rate;
try {
  rate = await measureSuccessRate(options);
} catch (error) {
  process.stderr.write(`success-rate: ${(error as Error).message}\n`);
  process.exit(2);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${rate.passed}/${rate.runs} conversations solved (${((100 * rate.passed) / rate.runs).toFixed(1)}%) — ` +
  `time scale ${options.timeScale}, jitter ±${options.jitterMs} ms, ${options.rounds} rounds, seed "${options.seed}", ${seconds} s`);
for (const failure of rate.failures) console.log(`  failed: ${failure}`);
process.exitCode = rate.passed === rate.runs ? 0 : 1;
