// Poparazzi shared through Redis: a token from POST /sessions on any process works on every process, and
// the view rule (one view per user per post per window, a budget of posts per user per window, a cap on
// tracked posts) holds across processes.
//
// Sessions: "pop:session:<SHA-256 of the token>" → user id, kept SESSION_TTL_SECONDS. As in SessionStore,
// the token itself is never stored. A process also keeps the tokens it issued in its own SessionStore,
// so during an outage it still recognises those.
// Views: one Lua script per view_counts batch applies the whole rule atomically — Redis runs a script
// alone, so two processes reporting the same user's view of the same post at the same moment cannot both
// count it. Chosen over SET NX EX + INCRBY (two commands per post, and the budget rule would need a
// third, with a window between them) because the rule reads and writes several keys at once. The user's
// open windows are a sorted set (post → when the window ends), expired on read; the totals are one hash.
// Memory in Redis: the windows of a user disappear with their key one window after the user's last view.
// During an outage nothing can be counted safely; each post is answered "unavailable, report again later".

import { KEY_PREFIX, type RedisLink } from '../shared/redis-link.ts';
import { systemClock, type Clock } from './clock.ts';
import { bearerToken, digestOf, SessionStore, type IssuedSession } from './sessions.ts';
import type { Sessions, ViewCounter } from './stores.ts';
import { normalizeUuid } from './uuid.ts';
import { DEFAULT_VIEW_RULES, IgnoredReason, type ViewRules } from './view-ledger.ts';

const SESSION_KEY_PREFIX = `${KEY_PREFIX}pop:session:`;
const WINDOWS_KEY_PREFIX = `${KEY_PREFIX}pop:windows:`;
const VIEWS_KEY = `${KEY_PREFIX}pop:views`;

/** How long an issued token works: a day, then the client asks for a new one. */
export const SESSION_TTL_SECONDS = 24 * 60 * 60;

// KEYS: the user's windows (sorted set post → end), the totals (hash). ARGV: now, window ms, budget,
// max tracked posts, then the post ids. Answers one code per post: 0 counted, 1 already counted in this
// window, 2 budget used, 3 server full.
const RECORD_VIEWS = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local maxPosts = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
local outcomes = {}
for index = 5, #ARGV do
  local post = ARGV[index]
  local outcome = 0
  if redis.call('ZSCORE', KEYS[1], post) then outcome = 1
  elseif open >= budget then outcome = 2
  elseif redis.call('HEXISTS', KEYS[2], post) == 0 and redis.call('HLEN', KEYS[2]) >= maxPosts then outcome = 3
  else
    redis.call('ZADD', KEYS[1], now + window, post)
    redis.call('HINCRBY', KEYS[2], post, 1)
    open = open + 1
  end
  outcomes[#outcomes + 1] = outcome
end
if open > 0 then redis.call('PEXPIRE', KEYS[1], window) end
return outcomes`;

const OUTCOMES: readonly (IgnoredReason | undefined)[] = [undefined, IgnoredReason.AlreadyCounted, IgnoredReason.BudgetUsed, IgnoredReason.ServerFull];

export class RedisSessions implements Sessions {
  readonly #link: RedisLink;
  /** The tokens this process issued: still recognised here while Redis is away. */
  readonly #issuedHere = new SessionStore();

  constructor(link: RedisLink) {
    this.#link = link;
  }

  /** Rejects when Redis is unreachable (the route answers 503): a token only this process knew would surprise its user elsewhere. */
  async issue(userId?: string): Promise<IssuedSession> {
    // Fail at once rather than after the command timeout: the client can retry, or use another process.
    if (!this.#link.isReady) throw new Error('Redis is unreachable');
    const session = this.#issuedHere.issue(userId);
    try {
      await this.#link.commands.send(['SET', sessionKey(session.token), session.user_id, 'EX', SESSION_TTL_SECONDS]);
    } catch (error) {
      this.#issuedHere.revoke(session.token);
      throw error;
    }
    return session;
  }

  /** Never rejects: a token Redis cannot confirm right now is not accepted (unless it was issued here). */
  authenticate(authorization: string): string | undefined | Promise<string | undefined> {
    const local = this.#issuedHere.authenticate(authorization);
    if (local !== undefined) return local;
    const token = normalizeUuid(bearerToken(authorization) ?? '');
    if (token === undefined || !this.#link.isReady) return undefined;
    return this.#link.commands.send(['GET', sessionKey(token)]).then(
      (reply) => (reply === null || reply instanceof Error ? undefined : String(reply)),
      () => undefined,
    );
  }
}

export class RedisViewCounter implements ViewCounter {
  readonly rules: ViewRules;
  readonly #link: RedisLink;
  readonly #record;
  readonly #clock: Clock;

  constructor(link: RedisLink, rules: Partial<ViewRules> = {}, clock: Clock = systemClock) {
    this.#link = link;
    this.rules = { ...DEFAULT_VIEW_RULES, ...rules };
    this.#record = link.script(RECORD_VIEWS);
    this.#clock = clock;
  }

  /** Never rejects: while Redis is unreachable every post is answered IgnoredReason.Unavailable. */
  async record(userId: string, postIds: readonly string[]): Promise<(IgnoredReason | undefined)[]> {
    const unavailable = (): IgnoredReason[] => postIds.map(() => IgnoredReason.Unavailable);
    if (!this.#link.isReady) return unavailable();
    const { windowMs, maxPostsPerUserPerWindow, maxTrackedPosts } = this.rules;
    try {
      const reply = await this.#record.run([WINDOWS_KEY_PREFIX + userId, VIEWS_KEY], [this.#clock(), windowMs, maxPostsPerUserPerWindow, maxTrackedPosts, ...postIds]);
      if (!Array.isArray(reply) || reply.length !== postIds.length) return unavailable();
      return reply.map((code) => OUTCOMES[Number(code)]);
    } catch {
      return unavailable();
    }
  }

  /** Rejects when Redis is unreachable (the route answers 503). */
  async viewsOf(postId: string): Promise<number> {
    if (!this.#link.isReady) throw new Error('Redis is unreachable');
    const reply = await this.#link.commands.send(['HGET', VIEWS_KEY, postId]);
    return reply === null ? 0 : Number(String(reply));
  }
}

function sessionKey(token: string): string {
  return SESSION_KEY_PREFIX + digestOf(token).toString('hex');
}
