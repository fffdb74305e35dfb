// Unit tests for the Poparazzi rules with no sockets: UUIDs, the session store, the token bucket,
// the view ledger (driven by a hand-moved clock) and message validation.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MESSAGE_LIMITS, parseClientMessage } from '../servers/poparazzi/messages.ts';
import { SessionStore } from '../servers/poparazzi/sessions.ts';
import { TokenBucket } from '../servers/poparazzi/token-bucket.ts';
import { isUuid, normalizeUuid } from '../servers/poparazzi/uuid.ts';
import { IgnoredReason, ViewLedger } from '../servers/poparazzi/view-ledger.ts';

const POST_A = 'f7e71599-70df-4918-a882-dd3c1d53070e';
const POST_B = '8a213848-5156-4b82-88b6-294aa2d80974';
const USER_1 = '2eed7a98-9f12-4d26-ad0f-a1f009b8e15b';
const USER_2 = '9c567d50-a2fd-4f26-a221-d71f4102136b';
const HOUR = 60 * 60 * 1000;

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => { time += ms; } };
}

function parse(value: unknown) {
  return parseClientMessage(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
}

describe('uuid', () => {
  test('accepts any case and stores lower case', () => {
    assert.equal(normalizeUuid(POST_A.toUpperCase()), POST_A);
    assert.equal(isUuid('F7E71599-70DF-4918-A882-DD3C1D53070E'), true);
  });
  test('refuses near misses', () => {
    for (const bad of ['', 'abc', `${POST_A}0`, POST_A.replaceAll('-', ''), `{${POST_A}}`, ` ${POST_A}`, 'g7e71599-70df-4918-a882-dd3c1d53070e', 42, null]) {
      assert.equal(isUuid(bad), false, String(bad));
    }
  });
});

describe('SessionStore', () => {
  test('a token issued for a user authenticates as that user, in any case, with the Bearer scheme', () => {
    const sessions = new SessionStore();
    const { token, user_id } = sessions.issue(USER_1.toUpperCase());
    assert.equal(user_id, USER_1);
    assert.equal(sessions.authenticate(`Bearer ${token}`), USER_1);
    assert.equal(sessions.authenticate(`bearer ${token.toUpperCase()}`), USER_1);
  });
  test('unknown tokens, other schemes and malformed values do not authenticate', () => {
    const sessions = new SessionStore();
    const { token } = sessions.issue();
    assert.equal(sessions.authenticate(`Bearer ${USER_2}`), undefined);
    assert.equal(sessions.authenticate(`Basic ${token}`), undefined);
    assert.equal(sessions.authenticate(token), undefined);
    assert.equal(sessions.authenticate('Bearer '), undefined);
    assert.equal(sessions.authenticate(`Bearer ${token} extra`), undefined);
  });
  test('a new random user gets a UUID; a non-UUID user id is refused', () => {
    const sessions = new SessionStore();
    assert.equal(isUuid(sessions.issue().user_id), true);
    assert.throws(() => sessions.issue('admin'), /UUID/);
  });
  test('the oldest session makes room once the store is full; revoked tokens stop working', () => {
    const sessions = new SessionStore({ maxSessions: 2 });
    const first = sessions.issue();
    const second = sessions.issue();
    sessions.issue();
    assert.equal(sessions.size, 2);
    assert.equal(sessions.userFor(first.token), undefined);
    assert.equal(sessions.userFor(second.token), second.user_id);
    assert.equal(sessions.revoke(second.token), true);
    assert.equal(sessions.userFor(second.token), undefined);
  });
});

describe('TokenBucket', () => {
  test('allows the burst, then refills at the rate, never above capacity', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(3, 2, clock.now);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
    clock.advance(500);
    assert.deepEqual([bucket.take(), bucket.take()], [true, false]);
    clock.advance(60_000);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  });
  test('a clock stepping backwards mints nothing', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1, 1, clock.now);
    assert.equal(bucket.take(), true);
    clock.advance(-10_000);
    assert.equal(bucket.take(), false);
  });
});

describe('ViewLedger', () => {
  test('one view per user per post per window, whatever is reported again', () => {
    const clock = manualClock();
    const ledger = new ViewLedger({}, clock.now);
    assert.deepEqual(ledger.record(USER_1, [POST_A, POST_B]), [undefined, undefined]);
    assert.deepEqual(ledger.record(USER_1, [POST_A]), [IgnoredReason.AlreadyCounted]);
    for (let repeat = 0; repeat < 100; repeat++) ledger.record(USER_1, [POST_A]);
    assert.equal(ledger.viewsOf(POST_A), 1);
    assert.equal(ledger.viewsOf(POST_B), 1);
  });
  test('other users count separately', () => {
    const ledger = new ViewLedger({}, manualClock().now);
    ledger.record(USER_1, [POST_A]);
    ledger.record(USER_2, [POST_A]);
    assert.equal(ledger.viewsOf(POST_A), 2);
  });
  test('the same post twice in one batch counts once', () => {
    const ledger = new ViewLedger({}, manualClock().now);
    assert.deepEqual(ledger.record(USER_1, [POST_A, POST_A]), [undefined, IgnoredReason.AlreadyCounted]);
    assert.equal(ledger.viewsOf(POST_A), 1);
  });
  test('after the window the same user counts again, and not before', () => {
    const clock = manualClock();
    const ledger = new ViewLedger({ windowMs: HOUR }, clock.now);
    ledger.record(USER_1, [POST_A]);
    clock.advance(HOUR - 1);
    assert.deepEqual(ledger.record(USER_1, [POST_A]), [IgnoredReason.AlreadyCounted]);
    clock.advance(1);
    assert.deepEqual(ledger.record(USER_1, [POST_A]), [undefined]);
    assert.equal(ledger.viewsOf(POST_A), 2);
  });
  test('a user has a budget of distinct posts per window', () => {
    const clock = manualClock();
    const ledger = new ViewLedger({ maxPostsPerUserPerWindow: 1, windowMs: HOUR }, clock.now);
    assert.deepEqual(ledger.record(USER_1, [POST_A, POST_B]), [undefined, IgnoredReason.BudgetUsed]);
    assert.deepEqual(ledger.record(USER_2, [POST_B]), [undefined]);
    clock.advance(HOUR);
    assert.deepEqual(ledger.record(USER_1, [POST_B]), [undefined]);
  });
  test('global capacity limits refuse new posts instead of growing without bound', () => {
    const ledger = new ViewLedger({ maxTrackedPosts: 1 }, manualClock().now);
    ledger.record(USER_1, [POST_A]);
    assert.deepEqual(ledger.record(USER_2, [POST_B, POST_A]), [IgnoredReason.ServerFull, undefined]);
    assert.equal(ledger.trackedPosts, 1);
  });
  test('prune forgets ended windows so their memory and capacity come back', () => {
    const clock = manualClock();
    const ledger = new ViewLedger({ maxOpenWindows: 1, windowMs: 10 }, clock.now);
    ledger.record(USER_1, [POST_A]);
    assert.deepEqual(ledger.record(USER_2, [POST_A]), [IgnoredReason.ServerFull]);
    clock.advance(10);
    ledger.prune();
    assert.deepEqual(ledger.record(USER_2, [POST_A]), [undefined]);
  });
  test('loaded totals carry on growing; changes counts counted views only', () => {
    const ledger = new ViewLedger({}, manualClock().now);
    ledger.load([[POST_A, 41]]);
    assert.equal(ledger.changes, 0);
    ledger.record(USER_1, [POST_A]);
    ledger.record(USER_1, [POST_A]);
    assert.equal(ledger.viewsOf(POST_A), 42);
    assert.equal(ledger.changes, 1);
  });
});

describe('parseClientMessage', () => {
  test('the document\'s messages parse', () => {
    assert.deepEqual(parse({ authorization: `Bearer ${USER_2}` }), { ok: true, message: { type: 'authorization', authorization: `Bearer ${USER_2}` } });
    assert.deepEqual(parse({ state: { active_group_id: null, is_typing: null } }), { ok: true, message: { type: 'state', activeGroupId: null, isTyping: false } });
    const result = parse({ view_counts: { 'F7E71599-70DF-4918-A882-DD3C1D53070E': 1, '8A213848-5156-4B82-88B6-294AA2D80974': 3 } });
    assert.deepEqual(result, {
      ok: true,
      message: { type: 'view_counts', reports: [
        { key: 'F7E71599-70DF-4918-A882-DD3C1D53070E', postId: POST_A, count: 1 },
        { key: '8A213848-5156-4B82-88B6-294AA2D80974', postId: POST_B, count: 3 },
      ] },
    });
  });
  test('state: group ids may be null, integers or short strings; is_typing a boolean or null', () => {
    for (const [state, expected] of [
      [{ active_group_id: 'g-1', is_typing: true }, { activeGroupId: 'g-1', isTyping: true }],
      [{ active_group_id: 7 }, { activeGroupId: 7, isTyping: false }],
      [{}, { activeGroupId: null, isTyping: false }],
    ] as const) {
      assert.deepEqual(parse({ state }), { ok: true, message: { type: 'state', ...expected } });
    }
  });

  function errorOf(value: unknown) {
    const result = parse(value);
    assert.equal(result.ok, false, `expected ${JSON.stringify(value)} to be refused`);
    return (result as { error: { code: string; message: string; entries?: Record<string, string> } }).error;
  }

  test('malformed JSON and wrong shapes are named precisely', () => {
    assert.equal(errorOf('{"state":').code, 'invalid_json');
    assert.equal(errorOf('[1]').code, 'invalid_message');
    assert.equal(errorOf('"hello"').code, 'invalid_message');
    assert.equal(errorOf({}).code, 'invalid_message');
    assert.match(errorOf({ state: {}, view_counts: {} }).message, /exactly one top-level key/);
    assert.equal(errorOf({ likes: 1 }).code, 'unknown_message');
    assert.equal(errorOf({ state: null }).code, 'invalid_state');
    assert.equal(errorOf({ state: [] }).code, 'invalid_state');
    assert.match(errorOf({ state: { is_typing: 'yes' } }).message, /is_typing/);
    assert.match(errorOf({ state: { active_group_id: {} } }).message, /active_group_id/);
    assert.match(errorOf({ state: { active_group_id: 'x'.repeat(129) } }).message, /active_group_id/);
    assert.match(errorOf({ state: { mood: 'happy' } }).message, /unknown field "mood"/);
    assert.equal(errorOf({ view_counts: [] }).code, 'invalid_view_counts');
    assert.equal(errorOf({ view_counts: {} }).code, 'invalid_view_counts');
  });

  test('every bad entry of a batch is named, and the batch is refused whole', () => {
    const error = errorOf({ view_counts: {
      [POST_A]: 1, 'not-a-post': 1, [POST_B]: 0, '269db696-6312-4bbe-848f-1b2b9c7a2959': -2,
      '2bd768f5-8891-4b90-9e99-311f6f88b111': 1.5, '6847ecd4-0dca-4084-96b4-976be22f1cb6': 1e9,
      'c0ffee00-0000-4000-8000-000000000000': '3', __proto__x: 1,
    } });
    assert.equal(error.code, 'invalid_view_counts');
    assert.match(error.message, /7 entries are invalid; nothing was counted/);
    assert.deepEqual(Object.keys(error.entries!).sort(), [
      '269db696-6312-4bbe-848f-1b2b9c7a2959', '2bd768f5-8891-4b90-9e99-311f6f88b111', '6847ecd4-0dca-4084-96b4-976be22f1cb6',
      '8a213848-5156-4b82-88b6-294aa2d80974', '__proto__x', 'c0ffee00-0000-4000-8000-000000000000', 'not-a-post',
    ]);
    assert.equal(error.entries!['not-a-post'], 'post id must be a UUID');
    assert.match(error.entries![POST_B]!, /integer from 1 to 1000, got 0/);
  });

  test('a "__proto__" key is reported like any other key', () => {
    const error = errorOf('{"view_counts":{"__proto__":1}}');
    assert.deepEqual(Object.keys(error.entries!), ['__proto__']);
  });

  test('batches have a maximum number of entries and messages a maximum size', () => {
    const entries: Record<string, number> = {};
    for (let index = 0; index <= DEFAULT_MESSAGE_LIMITS.maxBatchEntries; index++) {
      entries[`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`] = 1;
    }
    assert.equal(errorOf({ view_counts: entries }).code, 'too_many_entries');
    assert.equal(errorOf({ state: { active_group_id: 'x'.repeat(DEFAULT_MESSAGE_LIMITS.maxMessageBytes) } }).code, 'message_too_large');
  });
});
