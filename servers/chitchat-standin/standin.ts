// The local stand-in for hackattic's "WebSocket chit chat": the problem and solve endpoints and the
// WebSocket at /_/ws/<token>, registered on a Router (for the all-in-one server) or started alone.
// The conversation itself lives in conversation.ts; token bookkeeping in problems.ts.

import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { urlHost } from '../../lib/cli.ts';
import { Router, type RouteRequest, type RouteResponse } from '../../lib/http/router.ts';
import { json } from '../../lib/http/responses.ts';
import { createHttpServer } from '../../lib/http/server.ts';
import { CloseCodes } from './script.ts';
import { runConversation, type RunningConversation } from './conversation-socket.ts';
import { ProblemBook } from './problems.ts';
import { randomHex, randomSeed, seededRandom } from './seeded-random.ts';

export const PROBLEM_PATH = '/challenges/websocket_chit_chat/problem';
export const SOLVE_PATH = '/challenges/websocket_chit_chat/solve';
export const WEBSOCKET_PATH = '/_/ws/:token';

export interface ChitchatStandinOptions {
  /** Correct answers before the secret (default 12: the real number is not published). */
  rounds?: number;
  /** Wall-clock time per service millisecond (default 1; 0.1 is ten times faster). */
  timeScale?: number;
  /** Deliver each ping up to this many service milliseconds early or late (default 0). */
  jitterMs?: number;
  /** Same seed, same intervals and secrets for the n-th problem (default: random). */
  seed?: string;
  /** Accept only this access_token (default: any non-empty one). */
  accessToken?: string;
  /** Token lifetime in wall-clock milliseconds (default 60 minutes, like hackattic; not scaled). */
  tokenLifetimeMs?: number;
  /** Problems held at once (default 10 000). */
  maxProblems?: number;
  /** The clock tokens expire by, in milliseconds (default performance.now); tests move it forward. */
  now?: () => number;
}

export const DEFAULT_ROUNDS = 12;
const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const DEFAULT_MAX_PROBLEMS = 10_000;
const MAX_ACCESS_TOKEN_LENGTH = 256;
/** An answer is a number of a few digits; anything much longer is not an answer. */
const MAX_MESSAGE_BYTES = 1024;

export interface ChitchatStandinRegistration {
  /** End every conversation with 1001 and wait until their sockets are closed. */
  close(): Promise<void>;
}

/** Check the options once, with messages a command line can show as they are. */
export function checkStandinOptions(options: ChitchatStandinOptions): void {
  const { rounds = DEFAULT_ROUNDS, timeScale = 1, jitterMs = 0 } = options;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10_000) throw new RangeError(`rounds must be a whole number from 1 to 10000, got ${rounds}`);
  if (!(timeScale > 0 && timeScale <= 100)) throw new RangeError(`time scale must be above 0 and at most 100, got ${timeScale}`);
  if (!(jitterMs >= 0 && jitterMs <= 1000)) throw new RangeError(`jitter must be from 0 to 1000 ms (a ± range), got ${jitterMs}`);
}

export function registerChitchatStandin(router: Router, options: ChitchatStandinOptions = {}): ChitchatStandinRegistration {
  checkStandinOptions(options);
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const timeScale = options.timeScale ?? 1;
  const jitterMs = options.jitterMs ?? 0;
  const seed = options.seed ?? randomSeed();
  // Stream numbers 0, 1, 2… draw conversations; the secrets come from a separate family of streams.
  const secretSeed = `${seed}/secrets`;
  const problems = new ProblemBook({
    lifetimeMs: options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS,
    maxProblems: options.maxProblems ?? DEFAULT_MAX_PROBLEMS,
    now: options.now ?? (() => performance.now()),
    secretFor: (stream) => randomHex(seededRandom(secretSeed, stream), 24),
  });
  const running = new Map<RunningConversation, Promise<void>>();

  /** The access token of a request, or the 401/400 to answer instead. */
  const accessTokenOf = (request: RouteRequest): string | RouteResponse => {
    const accessToken = request.query.get('access_token') ?? '';
    if (accessToken === '') return json({ error: 'access_token query parameter is required' }, 401);
    if (accessToken.length > MAX_ACCESS_TOKEN_LENGTH) return json({ error: 'access_token is too long' }, 400);
    if (options.accessToken !== undefined && accessToken !== options.accessToken) return json({ error: 'unknown access_token' }, 401);
    return accessToken;
  };

  router.get(PROBLEM_PATH, (request) => {
    const accessToken = accessTokenOf(request);
    if (typeof accessToken !== 'string') return accessToken;
    const issued = problems.issue(accessToken);
    if (!issued.ok) return json({ error: issued.error }, issued.status);
    return json({ token: issued.problem.token });
  });

  router.post(SOLVE_PATH, (request) => {
    const accessToken = accessTokenOf(request);
    if (typeof accessToken !== 'string') return accessToken;
    const secret = secretFromBody(request.body);
    if (secret === undefined) return json({ error: 'the body must be JSON like {"secret": "…"}' }, 400);
    if (!problems.isEarnedSecret(accessToken, secret)) {
      return json({ error: 'that is not the secret of a conversation you finished (with this access_token, within the token lifetime)' }, 400);
    }
    return json({ result: 'passed' });
  });

  router.ws(WEBSOCKET_PATH, (connection, request) => {
    // Checked again here: two upgrades with one token may both have passed beforeUpgrade.
    const claim = problems.claim(request.params.token ?? '');
    if (!claim.ok) return connection.close(CloseCodes.TokenAlreadyUsed, 'token already used');
    const problem = claim.problem;
    let closed!: () => void;
    const whenClosed = new Promise<void>((resolve) => (closed = resolve));
    const conversation = runConversation(
      connection,
      { rounds, timeScale, jitterMs, secret: problem.secret, random: seededRandom(seed, problem.stream) },
      (finished) => (problem.state = finished.outcome === 'passed' ? 'earned' : 'failed'),
    );
    running.set(conversation, whenClosed);
    connection.on('close', () => {
      running.delete(conversation);
      closed();
    });
  }, {
    maxMessageBytes: MAX_MESSAGE_BYTES,
    beforeUpgrade: (request) => {
      const verdict = problems.check(request.params.token ?? '');
      return verdict.ok ? undefined : json({ error: verdict.error }, verdict.status);
    },
  });

  return {
    async close() {
      const closing = [...running.values()];
      for (const conversation of running.keys()) conversation.stop(CloseCodes.ShuttingDown, 'server shutting down');
      await Promise.all(closing);
    },
  };
}

function secretFromBody(body: Buffer): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const secret = (value as { secret?: unknown }).secret;
  return typeof secret === 'string' ? secret : undefined;
}

export interface ChitchatStandin {
  /** http://host:port — the base the solver takes (`--base`). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Start the stand-in alone on the project's raw HTTP server (port 0 by default: the OS picks). */
export async function startChitchatStandin(options: ChitchatStandinOptions & { port?: number; host?: string } = {}): Promise<ChitchatStandin> {
  const router = new Router();
  const registration = registerChitchatStandin(router, options);
  const server = createHttpServer({ router });
  const host = options.host ?? '127.0.0.1';
  const address: AddressInfo = await server.listen(options.port ?? 0, host);
  return {
    url: `http://${urlHost(address.address)}:${address.port}`,
    port: address.port,
    async close() {
      await registration.close();
      await server.close();
    },
  };
}
