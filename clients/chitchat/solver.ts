// The whole challenge: get a token, hold the conversation, submit the secret — and when a
// conversation fails (missed beat, wrong answer, dropped socket), start over with a fresh token,
// a bounded number of times.

import { printable } from '../../lib/cli.ts';
import { ApiError, fetchProblemToken, submitSecret, webSocketUrl, type SolveVerdict } from './hackattic-api.ts';
import { talk } from './talk.ts';

export interface SolveOptions {
  /** http(s)://host of the service: https://hackattic.com, or a stand-in's URL. */
  base: string;
  accessToken: string;
  /** Conversations to try before giving up (default 3). */
  attempts?: number;
  /** The stand-in's --time-scale (1 for hackattic). */
  timeScale?: number;
  log?: (line: string) => void;
}

export interface SolveResult {
  ok: boolean;
  secret?: string;
  verdict?: SolveVerdict;
  /** Why each failed attempt failed, in order. */
  failures: string[];
}

export async function solveChitchat(options: SolveOptions): Promise<SolveResult> {
  const attempts = options.attempts ?? 3;
  const log = options.log ?? (() => {});
  const failures: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let token: string;
    try {
      token = await fetchProblemToken(options.base, options.accessToken);
    } catch (error) {
      const reason = (error as Error).message;
      failures.push(reason);
      log(`attempt ${attempt}/${attempts}: ${reason}`);
      if (error instanceof ApiError && !error.retryable) break;
      continue;
    }
    const url = webSocketUrl(options.base, token);
    log(`attempt ${attempt}/${attempts}: connecting to ${url}`);
    const result = await talk(url, { timeScale: options.timeScale, log });
    if (!result.ok) {
      failures.push(result.reason);
      log(`attempt ${attempt}/${attempts} failed: ${result.reason}`);
      continue;
    }
    log(`secret after ${result.rounds} rounds: ${printable(result.secret)}`);
    try {
      const verdict = await submitSecret(options.base, options.accessToken, result.secret);
      log(`solve endpoint answered ${verdict.status}: ${printable(verdict.body)}`);
      return { ok: verdict.passed, secret: result.secret, verdict, failures };
    } catch (error) {
      failures.push((error as Error).message);
      log(`submitting the secret failed: ${(error as Error).message}`);
      return { ok: false, secret: result.secret, failures };
    }
  }
  return { ok: false, failures };
}
