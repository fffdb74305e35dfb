// The Poparazzi stream's conversation without a socket: authentication, the state echo, view
// reports and their answers, the rate limit — Buffers in, actions out, with a hand-moved clock.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionStore } from '../servers/poparazzi/sessions.ts';
import { StreamSession, type StreamAction } from '../servers/poparazzi/stream-session.ts';
import { ViewLedger } from '../servers/poparazzi/view-ledger.ts';

const USER = '2eed7a98-9f12-4d26-ad0f-a1f009b8e15b';
const POST = 'f7e71599-70df-4918-a882-dd3c1d53070e';

function setup(rateLimit = { burst: 100, perSecond: 100, maxRefusals: 3, refusalForgivenessMs: 10_000 }) {
  let time = 0;
  const clock = { now: () => time, advance: (ms: number) => { time += ms; } };
  const sessions = new SessionStore();
  const ledger = new ViewLedger({}, clock.now);
  const { token } = sessions.issue(USER);
  const stream = new StreamSession({ sessions, ledger, rateLimit, clock: clock.now });
  const send = (value: unknown): StreamAction[] => stream.receive(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), false);
  return { clock, ledger, token, stream, send };
}

function authenticated() {
  const context = setup();
  assert.deepEqual(context.send({ authorization: `Bearer ${context.token}` }), [{ type: 'send', message: { authenticated: true } }]);
  return context;
}

const errorCode = (actions: StreamAction[]) => (actions[0] as unknown as { message: { error: { code: string } } }).message.error.code;

describe('StreamSession before authentication', () => {
  test('an unknown token answers authenticated:false and closes 4001', () => {
    const { send, stream } = setup();
    assert.deepEqual(send({ authorization: 'Bearer 00000000-0000-4000-8000-000000000000' }), [
      { type: 'send', message: { authenticated: false } },
      { type: 'close', code: 4001, reason: 'authentication failed' },
    ]);
    assert.equal(stream.phase, 'closed');
    assert.deepEqual(send({ authorization: 'anything' }), [], 'nothing is answered after the close');
  });
  test('a non-string authorization is a failed authentication too', () => {
    const { send } = setup();
    assert.equal((send({ authorization: 42 })[1] as { code: number }).code, 4001);
  });
  test('any other message first gets an error and a close 4003', () => {
    const { send } = setup();
    const actions = send({ state: { active_group_id: null, is_typing: null } });
    assert.equal(errorCode(actions), 'not_authenticated');
    assert.deepEqual(actions[1], { type: 'close', code: 4003, reason: 'not authenticated' });
  });
  test('malformed JSON first gets invalid_json and a close 4003', () => {
    const { send } = setup();
    const actions = send('{nope');
    assert.equal(errorCode(actions), 'invalid_json');
    assert.equal((actions[1] as { code: number }).code, 4003);
  });
  test('the authentication deadline closes 4002, but not once authenticated', () => {
    assert.deepEqual(setup().stream.authenticationTimedOut(), [{ type: 'close', code: 4002, reason: 'authentication timed out' }]);
    assert.deepEqual(authenticated().stream.authenticationTimedOut(), []);
  });
});

describe('StreamSession once authenticated', () => {
  test('state is echoed with the user id, null is_typing as false', () => {
    const { send } = authenticated();
    assert.deepEqual(send({ state: { active_group_id: null, is_typing: null } }), [
      { type: 'send', message: { state: { user_id: USER, active_group_id: null, is_typing: false } } },
    ]);
  });
  test('recoverable errors keep the stream open', () => {
    const { send, stream } = authenticated();
    assert.equal(errorCode(send('not json')), 'invalid_json');
    assert.equal(errorCode(send({ state: { is_typing: 1 } })), 'invalid_state');
    assert.equal(errorCode(send({ authorization: 'Bearer x' })), 'already_authenticated');
    assert.equal(errorCode(stream.receive(Buffer.from([1, 2, 3]), true)), 'binary_not_supported');
    assert.equal(stream.phase, 'authenticated');
    assert.equal(send({ state: {} }).length, 1);
  });
  test('a fully counted batch is acknowledged exactly as {"view_counts":true}', () => {
    const { send, ledger } = authenticated();
    assert.deepEqual(send({ view_counts: { [POST.toUpperCase()]: 3 } }), [{ type: 'send', message: { view_counts: true } }]);
    assert.equal(ledger.viewsOf(POST), 1);
  });
  test('a repeated report is acknowledged with the ignored post named by the key it was sent as', () => {
    const { send, ledger } = authenticated();
    send({ view_counts: { [POST]: 1 } });
    const other = '8a213848-5156-4b82-88b6-294aa2d80974';
    // Compared as it goes on the wire (the ignored map has no prototype, so "__proto__" keys survive).
    assert.deepEqual(JSON.parse(JSON.stringify(send({ view_counts: { [POST.toUpperCase()]: 1, [other]: 1 } }))), [
      { type: 'send', message: { view_counts: true, ignored: { [POST.toUpperCase()]: 'already counted in this window' } } },
    ]);
    assert.equal(ledger.viewsOf(POST), 1);
    assert.equal(ledger.viewsOf(other), 1);
  });
  test('an invalid batch counts nothing at all', () => {
    const { send, ledger } = authenticated();
    assert.equal(errorCode(send({ view_counts: { [POST]: 1, 'not-a-uuid': 1 } })), 'invalid_view_counts');
    assert.equal(ledger.viewsOf(POST), 0);
  });
});

describe('StreamSession rate limit', () => {
  test('over the limit a message is dropped with rate_limited; persistent abuse closes 1008', () => {
    const { send, token, clock } = setup({ burst: 2, perSecond: 1, maxRefusals: 2, refusalForgivenessMs: 60_000 });
    assert.deepEqual(send({ authorization: `Bearer ${token}` }), [{ type: 'send', message: { authenticated: true } }]);
    assert.equal(send({ state: {} }).length, 1);
    assert.equal(errorCode(send({ state: {} })), 'rate_limited');
    clock.advance(1000);
    assert.deepEqual(Object.keys((send({ state: {} })[0] as { message: object }).message), ['state'], 'the limit refills with time');
    assert.equal(errorCode(send({ state: {} })), 'rate_limited');
    assert.deepEqual(send({ state: {} }), [{ type: 'close', code: 1008, reason: 'message rate limit exceeded' }]);
  });
});
