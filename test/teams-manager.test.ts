// The team manager's state machine alone (clients/teams/manager.ts), driven by scripted events:
// no network, no clock. Each test plays a situation the seed's Global/Team API can put a client in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TeamManager, type ManagerCommand, type ManagerEvent, type TimerId } from '../clients/teams/manager.ts';
import { backoffDelay } from '../clients/teams/backoff.ts';
import { mentionsProps, parseGlobalMessage, parseTeamMessage } from '../clients/teams/wire.ts';

const GLOBAL_URL = 'ws://127.0.0.1:9/global';

/** A manager plus helpers that feed it events and pick commands out of its answers. */
function harness(options: Partial<ConstructorParameters<typeof TeamManager>[0]> = {}) {
  const manager = new TeamManager({ globalUrl: GLOBAL_URL, random: () => 0.5, ...options });
  let last: ManagerCommand[] = [];
  const feed = (event: ManagerEvent): ManagerCommand[] => (last = manager.handle(event));
  const of = <T extends ManagerCommand['type']>(type: T, commands = last) =>
    commands.filter((command): command is Extract<ManagerCommand, { type: T }> => command.type === type);
  const sent = (commands = last) => of('send', commands).map((command) => command.message as Record<string, unknown>);
  const timers = (commands = last) => of('startTimer', commands);

  /** Start, open Global (connection id 1) and return it. */
  const openGlobal = (): number => {
    const [open] = of('openGlobal', feed({ type: 'start' }));
    assert.ok(open, 'start opens the Global connection');
    feed({ type: 'globalOpened', connectionId: open.connectionId });
    return open.connectionId;
  };
  const globalMessage = (connectionId: number, message: object | string) =>
    feed({ type: 'globalMessage', connectionId, text: typeof message === 'string' ? message : JSON.stringify(message) });

  /** Join a team and walk it to an open connection; returns the team connection id. */
  const connectTeam = (globalId: number, teamId: number, url = `http://127.0.0.1:9/team/${teamId}/a`): number => {
    globalMessage(globalId, { type: 'team.join', team_id: teamId });
    globalMessage(globalId, { type: 'team.connect', team_id: teamId, ws_url: url });
    const [open] = of('openTeam');
    assert.ok(open, `team ${teamId} is opened`);
    assert.equal(open.url, url);
    feed({ type: 'teamOpened', teamId, connectionId: open.connectionId });
    return open.connectionId;
  };
  const teamMessage = (teamId: number, connectionId: number, message: object | string) =>
    feed({ type: 'teamMessage', teamId, connectionId, text: typeof message === 'string' ? message : JSON.stringify(message) });
  const fire = (timer: TimerId) => feed({ type: 'timerFired', timer });

  return { manager, feed, of, sent, timers, openGlobal, globalMessage, connectTeam, teamMessage, fire, get last() { return last; } };
}

const teamTimer = (teamId: number, purpose: 'retry' | 'answer' | 'ping' | 'pong'): TimerId => ({ scope: 'team', teamId, purpose });

test('a team.join is answered with team.connect, and the URL it gets back is opened', () => {
  const h = harness();
  const globalId = h.openGlobal();
  h.globalMessage(globalId, { type: 'hello' });
  h.globalMessage(globalId, { type: 'team.join', team_id: 7 });
  assert.deepEqual(h.sent(), [{ type: 'team.connect', team_id: 7 }]);
  assert.ok(h.timers().some((timer) => timer.timer.scope === 'team' && timer.timer.purpose === 'answer'), 'waits a bounded time for the answer');
  h.globalMessage(globalId, { type: 'team.connect', team_id: 7, ws_url: 'http://localhost:8080/connect/to/team' });
  const [open] = h.of('openTeam');
  assert.equal(open?.url, 'http://localhost:8080/connect/to/team');
  assert.ok(h.of('cancelTimer').some((command) => command.timer.scope === 'team' && command.timer.purpose === 'answer'));
});

test('messages are counted per team, props case-insensitively, and the healthcheck reports them exactly', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const first = h.connectTeam(globalId, 1);
  const second = h.connectTeam(globalId, 2);
  h.teamMessage(1, first, { type: 'hello' });
  for (const text of ['props to you', 'PROPS!', 'a proper fix', 'no', 'Props']) h.teamMessage(1, first, { type: 'message', text });
  h.teamMessage(2, second, { type: 'message', text: 'pr0ps' });
  h.globalMessage(globalId, { type: 'healthcheck' });
  assert.deepEqual(h.sent(), [{
    type: 'healthcheck',
    stats: [
      { id: 1, connected: true, message_count: 5, props_count: 3 },
      { id: 2, connected: true, message_count: 1, props_count: 0 },
    ],
  }]);
});

test('malformed and unknown messages are ignored with a warning, never counted and never fatal', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 3);
  for (const text of ['not json {', '[1,2]', 'null', '{"type":42}', '{"type":"surprise"}', '{"type":"team.join"}', '{"type":"team.connect","team_id":3}']) {
    const commands = h.globalMessage(globalId, text);
    assert.deepEqual(h.of('send', commands), [], `no reply to ${text}`);
    assert.equal(h.of('log', commands)[0]?.level, 'warn', `a warning for ${text}`);
  }
  for (const text of ['not json {', '{"type":"messages","text":"props"}', '{"type":"message"}', '{"type":"message","text":5}']) h.teamMessage(3, teamId, text);
  h.feed({ type: 'teamMessage', teamId: 3, connectionId: teamId, text: '', isBinary: true });
  h.teamMessage(3, teamId, { type: 'message', text: 'props' });
  assert.deepEqual(h.manager.stats(), [{ id: 3, connected: true, message_count: 1, props_count: 1 }]);
});

test('team.left on the team connection closes it; the team stays in the healthcheck as disconnected', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 4);
  h.teamMessage(4, teamId, { type: 'message', text: 'props' });
  const commands = h.teamMessage(4, teamId, { type: 'team.left', team_id: 4 });
  assert.deepEqual(h.of('close', commands), [{ type: 'close', connectionId: teamId, code: 1000, reason: 'team left' }]);
  h.feed({ type: 'teamClosed', teamId: 4, connectionId: teamId, code: 1000, reason: '' });
  assert.deepEqual(h.timers(), [], 'no reconnection for a team that left');
  assert.deepEqual(h.manager.stats(), [{ id: 4, connected: false, message_count: 1, props_count: 1 }]);
});

test('team.left on the Global connection is accepted too, even while the team socket is still opening', () => {
  const h = harness();
  const globalId = h.openGlobal();
  h.globalMessage(globalId, { type: 'team.join', team_id: 5 });
  h.globalMessage(globalId, { type: 'team.connect', team_id: 5, ws_url: 'ws://127.0.0.1:9/t' });
  const [open] = h.of('openTeam');
  h.globalMessage(globalId, { type: 'team.left', team_id: 5 });
  const commands = h.feed({ type: 'teamOpened', teamId: 5, connectionId: open!.connectionId });
  assert.equal(h.of('close', commands).length, 1, 'the socket that opened after the leave is closed at once');
  assert.equal(h.manager.team(5)?.phase, 'left');
});

test('a dropped team connection is reconnected after a backoff, first with the same URL', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 6, 'ws://127.0.0.1:9/team/6/first');
  h.feed({ type: 'teamClosed', teamId: 6, connectionId: teamId, code: 1006, reason: '' });
  assert.equal(h.manager.stats()[0]?.connected, false);
  const [retry] = h.timers();
  assert.deepEqual(retry?.timer, teamTimer(6, 'retry'));
  const [open] = h.of('openTeam', h.fire(teamTimer(6, 'retry')));
  assert.equal(open?.url, 'ws://127.0.0.1:9/team/6/first');
});

test('a URL refused with 404 is replaced: the next attempt asks for a fresh team.connect', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 8);
  h.feed({ type: 'teamClosed', teamId: 8, connectionId: teamId, code: 1006, reason: '' });
  const [reopen] = h.of('openTeam', h.fire(teamTimer(8, 'retry')));
  h.feed({ type: 'teamOpenFailed', teamId: 8, connectionId: reopen!.connectionId, reason: 'server answered 404 Not Found', statusCode: 404 });
  const commands = h.fire(teamTimer(8, 'retry'));
  assert.deepEqual(h.sent(commands), [{ type: 'team.connect', team_id: 8 }]);
  assert.equal(h.of('openTeam', commands).length, 0);
});

test('a URL that fails twice without an HTTP answer is replaced as well', () => {
  const h = harness();
  const globalId = h.openGlobal();
  h.globalMessage(globalId, { type: 'team.join', team_id: 9 });
  h.globalMessage(globalId, { type: 'team.connect', team_id: 9, ws_url: 'ws://127.0.0.1:9/t' });
  let [open] = h.of('openTeam');
  h.feed({ type: 'teamOpenFailed', teamId: 9, connectionId: open!.connectionId, reason: 'ECONNREFUSED' });
  [open] = h.of('openTeam', h.fire(teamTimer(9, 'retry')));
  assert.ok(open, 'one failure: the same URL is tried again');
  h.feed({ type: 'teamOpenFailed', teamId: 9, connectionId: open.connectionId, reason: 'ECONNREFUSED' });
  assert.deepEqual(h.sent(h.fire(teamTimer(9, 'retry'))), [{ type: 'team.connect', team_id: 9 }]);
});

test('an error answer to team.connect, or no answer at all, leads to a new request after a backoff', () => {
  const h = harness();
  const globalId = h.openGlobal();
  h.globalMessage(globalId, { type: 'team.join', team_id: 10 });
  const commands = h.globalMessage(globalId, { type: 'error', message: 'not ready', received_message: { type: 'team.connect', team_id: 10 } });
  assert.deepEqual(h.timers(commands).map((timer) => timer.timer), [teamTimer(10, 'retry')]);
  assert.deepEqual(h.sent(h.fire(teamTimer(10, 'retry'))), [{ type: 'team.connect', team_id: 10 }]);
  // Now the answer never comes.
  h.fire(teamTimer(10, 'answer'));
  assert.deepEqual(h.timers().map((timer) => timer.timer), [teamTimer(10, 'retry')]);
  assert.deepEqual(h.sent(h.fire(teamTimer(10, 'retry'))), [{ type: 'team.connect', team_id: 10 }]);
  // A late answer to an earlier request is as good as any.
  h.globalMessage(globalId, { type: 'team.connect', team_id: 10, ws_url: 'ws://127.0.0.1:9/t' });
  assert.equal(h.of('openTeam').length, 1);
  h.globalMessage(globalId, { type: 'team.connect', team_id: 10, ws_url: 'ws://127.0.0.1:9/t2' });
  assert.equal(h.of('openTeam').length, 0, 'a duplicate answer does not open a second socket');
});

test('a silent team connection is detected with ping/pong, cut, and reconnected; its late close is ignored', () => {
  const h = harness({ pingIntervalMs: 1000, pongTimeoutMs: 500 });
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 11);
  assert.ok(h.timers().some((timer) => timer.timer.scope === 'team' && timer.timer.purpose === 'ping'));
  let commands = h.fire(teamTimer(11, 'ping'));
  const [ping] = h.sent(commands);
  assert.equal(ping?.type, 'ping');
  assert.equal(typeof ping?.unique_id, 'string');
  // Answered: the pong timer is cancelled.
  commands = h.teamMessage(11, teamId, { type: 'pong', unique_id: ping!.unique_id as string });
  assert.ok(h.of('cancelTimer', commands).some((command) => command.timer.scope === 'team' && command.timer.purpose === 'pong'));
  // Next ping goes unanswered.
  h.fire(teamTimer(11, 'ping'));
  commands = h.fire(teamTimer(11, 'pong'));
  assert.deepEqual(h.of('terminate', commands), [{ type: 'terminate', connectionId: teamId }]);
  assert.deepEqual(h.timers(commands).map((timer) => timer.timer), [teamTimer(11, 'retry')]);
  assert.deepEqual(h.feed({ type: 'teamClosed', teamId: 11, connectionId: teamId, code: 1006, reason: '' }), [], 'the cut socket closing later changes nothing');
  assert.equal(h.of('openTeam', h.fire(teamTimer(11, 'retry'))).length, 1);
});

test('the Global connection is reconnected with backoff while team connections stay up', () => {
  const h = harness();
  const globalId = h.openGlobal();
  const teamId = h.connectTeam(globalId, 12);
  h.globalMessage(globalId, { type: 'team.join', team_id: 13 }); // its team.connect is lost with the connection
  let commands = h.feed({ type: 'globalClosed', connectionId: globalId, code: 1006, reason: '' });
  assert.deepEqual(h.timers(commands).map((timer) => timer.timer), [{ scope: 'global', purpose: 'retry' }]);
  assert.equal(h.of('close', commands).length + h.of('terminate', commands).length, 0, 'team connections are left alone');
  const [reopen] = h.of('openGlobal', h.fire({ scope: 'global', purpose: 'retry' }));
  h.feed({ type: 'globalOpenFailed', connectionId: reopen!.connectionId, reason: 'ECONNREFUSED' });
  const [second] = h.of('openGlobal', h.fire({ scope: 'global', purpose: 'retry' }));
  commands = h.feed({ type: 'globalOpened', connectionId: second!.connectionId });
  assert.deepEqual(h.sent(commands), [{ type: 'team.connect', team_id: 13 }], 'the unanswered request is sent again');
  h.teamMessage(12, teamId, { type: 'message', text: 'still here' });
  commands = h.globalMessage(second!.connectionId, { type: 'healthcheck' });
  assert.deepEqual(h.sent(commands)[0]?.stats, [
    { id: 12, connected: true, message_count: 1, props_count: 0 },
    { id: 13, connected: false, message_count: 0, props_count: 0 },
  ]);
  assert.deepEqual(h.globalMessage(globalId, { type: 'healthcheck' }), [], 'the old Global connection is no longer listened to');
});

test('goodbye finishes the run with exit code 0, and nothing happens after it', () => {
  const h = harness();
  const globalId = h.openGlobal();
  h.connectTeam(globalId, 14);
  const commands = h.globalMessage(globalId, { type: 'goodbye' });
  assert.deepEqual(h.of('finish', commands), [{ type: 'finish', exitCode: 0, reason: 'the server said goodbye' }]);
  assert.ok(h.manager.finished);
  assert.deepEqual(h.fire(teamTimer(14, 'ping')), []);
  assert.deepEqual(h.globalMessage(globalId, { type: 'team.join', team_id: 15 }), []);
});

test('a server that announces too many teams cannot exhaust memory', () => {
  const h = harness({ maxTeams: 3 });
  const globalId = h.openGlobal();
  for (let teamId = 1; teamId <= 10; teamId++) h.globalMessage(globalId, { type: 'team.join', team_id: teamId });
  assert.equal(h.manager.stats().length, 3);
});

test('backoff doubles per failure up to its ceiling, with jitter in the upper half', () => {
  const policy = { baseMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(1, policy, () => 0), 50);
  assert.equal(backoffDelay(1, policy, () => 0.999999), 100);
  assert.equal(backoffDelay(3, policy, () => 0), 200);
  assert.equal(backoffDelay(50, policy, () => 0), 500);
  assert.ok(backoffDelay(50, policy, () => 0.999999) <= 1000);
});

test('wire parsing: the props rule and field checks', () => {
  assert.ok(mentionsProps('PrOpS'));
  assert.ok(mentionsProps('unprops'));
  assert.ok(!mentionsProps('prop s'));
  assert.deepEqual(parseGlobalMessage('{"type":"team.connect","team_id":1,"ws_url":"ftp://x"}').type, 'invalid');
  assert.deepEqual(parseGlobalMessage('{"type":"team.join","team_id":1.5}').type, 'invalid');
  assert.deepEqual(parseTeamMessage('{"type":"pong","unique_id":"a"}'), { type: 'pong', unique_id: 'a' });
  assert.deepEqual(parseTeamMessage('{"type":"message","text":"hi"}'), { type: 'message', text: 'hi' });
});
