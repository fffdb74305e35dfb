// `node --import tsx clients/chitchat/success-rate-main.ts --runs 50 --jitter-ms 50`: the solver's
// success rate over many seeded conversations run at once against a jittery in-process stand-in.

import { numberFlag, parseFlags, positiveNumberFlag, usageError, wholeNumberFlag, type Program } from '../../lib/cli.ts';
import { measureSuccessRate } from './success-rate.ts';

const program: Program = {
  name: 'success-rate',
  usage: `Usage: node --import tsx clients/chitchat/success-rate-main.ts [options]

  --runs N          conversations, all at once, one attempt each (default 50)
  --time-scale X    the stand-in's time scale (default 0.1)
  --jitter-ms N     each ping up to N service ms early or late (default 50: 10% of the smallest gap)
  --rounds N        correct answers needed per conversation (default 12)
  --seed TEXT       the stand-in's seed (default "success-rate")
  --help            show this help`,
};

const { values: flags } = parseFlags(program, {
  runs: { type: 'string' },
  'time-scale': { type: 'string' },
  'jitter-ms': { type: 'string' },
  rounds: { type: 'string' },
  seed: { type: 'string', default: 'success-rate' },
});
// Only the syntax of the stand-in's settings is checked here: the stand-in refuses out-of-range values itself.
const options = {
  runs: wholeNumberFlag(program, '--runs', flags.runs, 1, 1000) ?? 50,
  timeScale: positiveNumberFlag(program, '--time-scale', flags['time-scale']) ?? 0.1,
  jitterMs: numberFlag(program, '--jitter-ms', flags['jitter-ms']) ?? 50,
  rounds: numberFlag(program, '--rounds', flags.rounds) ?? 12,
  seed: flags.seed,
};

const started = performance.now();
let rate;
try {
  rate = await measureSuccessRate(options);
} catch (error) {
  usageError(program, (error as Error).message);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${rate.passed}/${rate.runs} conversations solved (${((100 * rate.passed) / rate.runs).toFixed(1)}%) — ` +
  `time scale ${options.timeScale}, jitter ±${options.jitterMs} ms, ${options.rounds} rounds, seed "${options.seed}", ${seconds} s`);
for (const failure of rate.failures) console.log(`  failed: ${failure}`);
process.exitCode = rate.passed === rate.runs ? 0 : 1;
