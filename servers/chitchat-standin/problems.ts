// The stand-in's bookkeeping of problems: one-time WebSocket tokens that expire, the secret each one
// leads to, and which secrets were earned (and by whom) for /solve. No I/O: the clock is injected.

import { randomBytes } from 'node:crypto';

export interface Problem {
  /** The one-time token for wss://…/_/ws/<token>. */
  readonly token: string;
  readonly accessToken: string;
  readonly issuedAt: number;
  /** Which random stream the conversation draws from (with --seed, the same number gives the same conversation). */
  readonly stream: number;
  readonly secret: string;
  state: 'issued' | 'in conversation' | 'earned' | 'failed';
}

export type Claim =
  | { ok: true; problem: Problem }
  | { ok: false; status: 404 | 410; error: string };

export type Issue =
  | { ok: true; problem: Problem }
  | { ok: false; status: 503; error: string };

export interface ProblemBookOptions {
  /** How long a token can be used, in milliseconds (hackattic: 60 minutes). */
  lifetimeMs: number;
  /** Problems kept at once; beyond this, /problem answers 503 until old ones expire (bounded memory). */
  maxProblems: number;
  now: () => number;
  /** The secret of problem number `stream`. */
  secretFor: (stream: number) => string;
}

export class ProblemBook {
  readonly #byToken = new Map<string, Problem>();
  #issued = 0;

  constructor(private readonly options: ProblemBookOptions) {}

  get size(): number {
    return this.#byToken.size;
  }

  issue(accessToken: string): Issue {
    this.#forgetOldProblems();
    if (this.#byToken.size >= this.options.maxProblems) {
      return { ok: false, status: 503, error: `too many open problems (${this.options.maxProblems}); try again when some have expired` };
    }
    const stream = this.#issued++;
    const problem: Problem = {
      token: randomBytes(16).toString('hex'),
      accessToken,
      issuedAt: this.options.now(),
      stream,
      secret: this.options.secretFor(stream),
      state: 'issued',
    };
    this.#byToken.set(problem.token, problem);
    return { ok: true, problem };
  }

  /** May this token open a conversation? Does not use it up (see `claim`). */
  check(token: string): Claim {
    const problem = this.#byToken.get(token);
    if (problem === undefined) return { ok: false, status: 404, error: 'unknown token: get one from /challenges/websocket_chit_chat/problem' };
    if (this.#isExpired(problem)) return { ok: false, status: 410, error: 'token expired: get a fresh one from /challenges/websocket_chit_chat/problem' };
    if (problem.state !== 'issued') return { ok: false, status: 410, error: 'token already used: each token opens one conversation' };
    return { ok: true, problem };
  }

  /** Use the token up for one conversation. */
  claim(token: string): Claim {
    const verdict = this.check(token);
    if (verdict.ok) verdict.problem.state = 'in conversation';
    return verdict;
  }

  /** Was `secret` earned in a conversation opened with a token issued to `accessToken`, still within its lifetime? */
  isEarnedSecret(accessToken: string, secret: string): boolean {
    for (const problem of this.#byToken.values()) {
      if (problem.state === 'earned' && problem.accessToken === accessToken && problem.secret === secret && !this.#isExpired(problem)) return true;
    }
    return false;
  }

  #isExpired(problem: Problem): boolean {
    return this.options.now() - problem.issuedAt >= this.options.lifetimeMs;
  }

  /** Expired problems stay a second lifetime, so a late client still hears "expired" rather than "unknown". */
  #forgetOldProblems(): void {
    const now = this.options.now();
    for (const [token, problem] of this.#byToken) {
      // Insertion order is issue order: the first one still young enough ends the sweep.
      if (now - problem.issuedAt < 2 * this.options.lifetimeMs) break;
      this.#byToken.delete(token);
    }
  }
}
