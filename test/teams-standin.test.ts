// The Global/Team API stand-in (servers/teams-standin/): its scenario, its truth and its verdicts,
// then the stand-in on the network against a hand-driven client that breaks the rules on purpose.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, HandshakeError, type WebSocketConnection } from '../lib/websocket/index.ts';
import { parseFaults, FAULT_NAMES } from '../servers/teams-standin/faults.ts';
import { DeliveryLedger } from '../servers/teams-standin/ledger.ts';
import { buildScenario } from '../servers/teams-standin/scenario.ts';
import { startTeamsStandin } from '../servers/teams-standin/standin.ts';
import { judgeHealthcheck } from '../servers/teams-standin/verdict.ts';
import { closed } from './helpers/wait.ts';

const scenarioOptions = { teams: 20, seed: 42, durationMs: 30_000, faults: parseFaults('all'), healthchecks: 4, messageIntervalMs: 500 };

test('the same seed replays the same scenario; another seed does not', () => {
  const first = buildScenario(scenarioOptions);
  const again = buildScenario(scenarioOptions);
  const other = buildScenario({ ...scenarioOptions, seed: 43 });
  assert.deepEqual(again.events, first.events);
  assert.deepEqual(again.connectAnswers, first.connectAnswers);
  assert.notDeepEqual(other.events, first.events);
  const kinds = new Set(first.events.map((event) => event.kind));
  for (const kind of ['join', 'message', 'leave', 'healthcheck', 'drop-team', 'silence', 'drop-global', 'malformed', 'end']) assert.ok(kinds.has(kind as never), kind);
  assert.equal(first.events.at(-1)?.kind, 'end');
  assert.equal(first.events.filter((event) => event.kind === 'join').length, 20);
});

test('with faults off, the scenario has no fault events and every team.connect is answered at once', () => {
  const scenario = buildScenario({ ...scenarioOptions, faults: parseFaults('none') });
  assert.ok(scenario.events.every((event) => ['join', 'message', 'leave', 'healthcheck', 'end'].includes(event.kind)));
  assert.equal(scenario.refuseFirst.size, 0);
  assert.ok([...scenario.connectAnswers.values()].flat().every((answer) => answer === 'now'));
});

test('fault lists: all, none, a list, and a clear error for an unknown name', () => {
  assert.deepEqual([...parseFaults('all')], FAULT_NAMES);
  assert.equal(parseFaults('none').size, 0);
  assert.deepEqual([...parseFaults('silent, drop-global')], ['silent', 'drop-global']);
  assert.throws(() => parseFaults('silent,lightning'), /unknown fault "lightning".*drop-team/);
});

test('the delivery ledger counts only what a round trip acknowledged', () => {
  const ledger = new DeliveryLedger();
  ledger.recordSent(true);
  ledger.recordSent(false);
  const checkpoint = ledger.checkpoint();
  ledger.recordSent(true); // in flight when the ping went out
  assert.deepEqual(ledger.acknowledge(checkpoint), { messages: 2, props: 1 });
  assert.deepEqual(ledger.unacknowledged, { messages: 1, props: 1 });
  assert.equal(ledger.settled, false);
  assert.deepEqual(ledger.acknowledge(checkpoint), { messages: 0, props: 0 }, 'a duplicate pong adds nothing');
});

test('the verdict is exact: missing, extra, duplicated and off-by-one teams are all mismatches', () => {
  const expected = [
    { id: 1, delivered: { messages: 10, props: 2 }, inDoubt: { messages: 0, props: 0 } },
    { id: 2, delivered: { messages: 0, props: 0 }, inDoubt: { messages: 0, props: 0 } },
  ];
  const stats = (entries: object[]) => ({ type: 'healthcheck', stats: entries });
  const good = [{ id: 1, connected: true, message_count: 10, props_count: 2 }, { id: 2, connected: false, message_count: 0, props_count: 0 }];
  assert.deepEqual(judgeHealthcheck(expected, stats(good)), { match: true, problems: [], disconnected: 1 });
  assert.deepEqual(judgeHealthcheck(expected, stats([{ ...good[0]!, message_count: 11 }, good[1]!])).problems, ['team 1: message_count 11, expected 10']);
  assert.deepEqual(judgeHealthcheck(expected, stats([good[0]!])).problems, ['team 2 missing']);
  assert.deepEqual(judgeHealthcheck(expected, stats([...good, { id: 3, connected: true, message_count: 0, props_count: 0 }])).problems, ['team 3 reported but never joined']);
  assert.deepEqual(judgeHealthcheck(expected, stats([...good, good[1]!])).problems, ['team 2 reported twice']);
  assert.equal(judgeHealthcheck(expected, { type: 'healthcheck', stats: 'lots' }).match, false);
  assert.equal(judgeHealthcheck(expected, stats([{ id: 1, connected: 'yes', message_count: 10, props_count: 2 }])).match, false);
});

test('messages in doubt (sent on a connection that died unacknowledged) widen the accepted range, and only those', () => {
  const expected = [{ id: 1, delivered: { messages: 10, props: 2 }, inDoubt: { messages: 2, props: 1 } }];
  const reply = (messages: number, props: number) => ({ stats: [{ id: 1, connected: true, message_count: messages, props_count: props }] });
  assert.ok(judgeHealthcheck(expected, reply(10, 2)).match);
  assert.ok(judgeHealthcheck(expected, reply(12, 3)).match);
  assert.deepEqual(judgeHealthcheck(expected, reply(13, 3)).problems, ['team 1: message_count 13, expected 10..12']);
});

/** Every JSON message of a connection, kept in order; `take` removes the first of a type, waiting for it if needed. */
class Inbox {
  private readonly messages: Record<string, unknown>[] = [];
  private waiter: (() => void) | undefined;

  constructor(connection: WebSocketConnection) {
    connection.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.waiter?.();
    });
  }

  async take(...types: string[]): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const index = this.messages.findIndex((message) => types.includes(String(message.type)));
      if (index !== -1) return this.messages.splice(index, 1)[0]!;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${types.join(' or ')} within 5 s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

test('the stand-in answers a misbehaving client with error events, 404s for bad team URLs, and judges a wrong healthcheck as a mismatch', async () => {
  const lines: string[] = [];
  // Slow enough that the hand-driven client below is never rushed; the healthcheck comes at 100 ms real.
  const standin = await startTeamsStandin({ teams: 2, seed: 5, faults: 'none', durationMs: 10_000, timeScale: 50, healthchecks: 1, quietPointTimeoutMs: 3_000, goodbyeGraceMs: 500, log: (line) => lines.push(line) });
  const connections: WebSocketConnection[] = [];
  try {
    const global = await connect(standin.globalUrl);
    connections.push(global);
    const globalInbox = new Inbox(global);
    const join = await globalInbox.take('team.join');

    global.send('not json {');
    let error = await globalInbox.take('error');
    assert.equal(error.received_message, 'not json {');
    global.send(JSON.stringify({ type: 'dance' }));
    error = await globalInbox.take('error');
    assert.deepEqual(error.received_message, { type: 'dance' });
    global.send(JSON.stringify({ type: 'team.connect', team_id: 9999 }));
    error = await globalInbox.take('error');
    assert.equal(error.team_id, 9999);
    assert.match(String(error.message), /unknown team/);

    global.send(JSON.stringify({ type: 'team.connect', team_id: join.team_id }));
    const answer = await globalInbox.take('team.connect');
    assert.match(String(answer.ws_url), /^http:\/\/127\.0\.0\.1:\d+\/team\/\d+\/[\w-]+$/, 'team URLs are http:// like the original API');
    const team = await connect(String(answer.ws_url));
    connections.push(team);
    const teamInbox = new Inbox(team);
    team.send(JSON.stringify({ type: 'ping', unique_id: 'abc' }));
    assert.deepEqual(await teamInbox.take('pong'), { type: 'pong', unique_id: 'abc' });

    await assert.rejects(connect(String(answer.ws_url).replace(/\/[\w-]+$/, '/forged-token')), (rejection: unknown) => rejection instanceof HandshakeError && rejection.statusCode === 404);
    await assert.rejects(connect(standin.globalUrl.replace('/global', '/team/9999/x')), (rejection: unknown) => rejection instanceof HandshakeError && rejection.statusCode === 404);

    // Every joined team must be reported: an empty answer is a mismatch.
    for (;;) {
      const next = await globalInbox.take('healthcheck', 'goodbye');
      if (next.type === 'goodbye') break;
      global.send(JSON.stringify({ type: 'healthcheck', stats: [] }));
    }
    await Promise.all(connections.map((connection) => {
      const closing = closed(connection);
      connection.close();
      return closing;
    }));
    const summary = await standin.done;
    assert.ok(summary.mismatches >= 1);
    assert.ok(lines.some((line) => /healthcheck 1: MISMATCH — team \d+ missing/.test(line)), lines.join('\n'));
    assert.equal(summary.openSockets, 0);
  } finally {
    for (const connection of connections) connection.terminate();
    await standin.close();
  }
});
