// How often the solver wins against a jittery stand-in: many seeded conversations at once, one
// attempt each, against one stand-in. Used by success-rate-main.ts and by the tests.

import { startChitchatStandin } from './in-process-standin.ts';
import { solveChitchat } from './solver.ts';

export interface SuccessRateOptions {
  runs: number;
  timeScale: number;
  jitterMs: number;
  rounds: number;
  seed: string;
}

export interface SuccessRate {
  runs: number;
  passed: number;
  /** Why each failed run failed. */
  failures: string[];
}

export async function measureSuccessRate(options: SuccessRateOptions): Promise<SuccessRate> {
  const standin = await startChitchatStandin({ timeScale: options.timeScale, jitterMs: options.jitterMs, rounds: options.rounds, seed: options.seed });
  try {
    const runs = Array.from({ length: options.runs }, () =>
      solveChitchat({ base: standin.url, accessToken: 'success-rate', attempts: 1, timeScale: options.timeScale }));
    const results = await Promise.all(runs);
    return {
      runs: options.runs,
      passed: results.filter((result) => result.ok).length,
      failures: results.flatMap((result) => result.failures),
    };
  } finally {
    await standin.close();
  }
}
