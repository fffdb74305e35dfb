// The chit-chat logic without a network: the stand-in's conversation driven by a fake clock, its token
// book, and the solver's reading of intervals. Every time here is a number the test chooses.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Conversation, type ConversationSettings, type Instruction } from '../servers/chitchat-standin/conversation.ts';
import { ProblemBook } from '../servers/chitchat-standin/problems.ts';
import { seededRandom } from '../servers/chitchat-standin/seeded-random.ts';
import { PingAnswerer } from '../clients/chitchat/answerer.ts';
import { nearestInterval } from '../clients/chitchat/intervals.ts';

const HELLO = 'hello! start counting the time between the pings (start from the moment you opened this connection)';
const MISSED = 'ouch! seems like you missed a beat... sorry, this conversation is over. closing socket.';
const INTERVALS = [700, 1500, 2000, 2500, 3000];

function settings(overrides: Partial<ConversationSettings> = {}): ConversationSettings {
  return { rounds: 3, timeScale: 1, jitterMs: 0, random: seededRandom('test', 0), secret: 'the-secret', ...overrides };
}

const sent = (instructions: Instruction[]): string[] =>
  instructions.flatMap((instruction) => (instruction.kind === 'send' ? [instruction.text] : []));
const closeOf = (instructions: Instruction[]) => instructions.find((instruction) => instruction.kind === 'close');
const closeCode = (instructions: Instruction[]): number | undefined => {
  const close = closeOf(instructions);
  return close?.kind === 'close' ? close.code : undefined;
};

/** Run to the next ping; returns its interval (the time since the previous ping or the opening). */
function nextPing(conversation: Conversation, since: number): { at: number; intervalMs: number } {
  const at = conversation.wakeAt!;
  assert.deepEqual(sent(conversation.advance(at)), ['ping!']);
  return { at, intervalMs: at - since };
}

describe('stand-in conversation (fake clock)', () => {
  test('says hello on open, pings after one of the five intervals, and confirms a right answer with good!', () => {
    const conversation = new Conversation(settings());
    assert.deepEqual(sent(conversation.open(1000)), [HELLO]);
    assert.deepEqual(conversation.advance(conversation.wakeAt! - 1), [], 'nothing before the first interval is over');
    const ping = nextPing(conversation, 1000);
    assert.ok(INTERVALS.includes(ping.intervalMs), `first interval ${ping.intervalMs} counts from the opening`);
    assert.deepEqual(sent(conversation.receive(String(ping.intervalMs))), ['good!']);
  });

  test('gives the secret after the configured rounds and closes with 1000', () => {
    const conversation = new Conversation(settings({ rounds: 3 }));
    conversation.open(0);
    let last = 0;
    let final: Instruction[] = [];
    for (let round = 1; round <= 3; round++) {
      const ping = nextPing(conversation, last);
      last = ping.at;
      final = conversation.receive(` ${ping.intervalMs}\n`);
    }
    assert.deepEqual(sent(final), ['good!', 'congratulations! the solution to this challenge is "the-secret"']);
    assert.deepEqual(closeOf(final), { kind: 'close', code: 1000, reason: 'conversation complete' });
    assert.equal(conversation.outcome, 'passed');
    assert.equal(conversation.wakeAt, undefined, 'no more pings after the secret');
  });

  test('a wrong answer ends the conversation with the interval it was and what was said', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    const ping = nextPing(conversation, 0);
    const wrong = ping.intervalMs === 700 ? 1500 : 700;
    const reply = conversation.receive(String(wrong));
    assert.deepEqual(sent(reply), [`ouch! no! that was a ${ping.intervalMs} ms interval, you said ${wrong}. sorry, this conversation is over. closing socket.`]);
    assert.equal(closeCode(reply), 4001);
    assert.equal(conversation.outcome, 'failed');
  });

  test('an answer that is not a number is wrong, and is quoted (and cut short) in the reply', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    const ping = nextPing(conversation, 0);
    const [text] = sent(conversation.receive('x'.repeat(500)));
    assert.match(text!, new RegExp(`^ouch! no! that was a ${ping.intervalMs} ms interval, you said "x{40}…"\\.`));
  });

  test('no answer before the next ping: the next ping is the missed-beat message instead', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    nextPing(conversation, 0);
    const reply = conversation.advance(conversation.wakeAt!);
    assert.deepEqual(sent(reply), [MISSED]);
    assert.equal(closeCode(reply), 4000);
  });

  test('the deadline is the next ping going out: an answer read before that counts, even if the server is running late', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    const ping = nextPing(conversation, 0);
    // The next ping is due, but the adapter reads the answer before it runs advance(): that is in time.
    assert.ok(conversation.wakeAt! > ping.at);
    assert.deepEqual(sent(conversation.receive(String(ping.intervalMs))), ['good!']);
    assert.deepEqual(sent(conversation.advance(conversation.wakeAt!)), ['ping!']);
  });

  test('an answer while no ping waits for one ends the conversation with 4002', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    const reply = conversation.receive('700');
    assert.match(sent(reply)[0]!, /^ouch! no! there was no ping to answer, you said 700\./);
    assert.equal(closeCode(reply), 4002);
  });

  test('a binary message is refused with 1003', () => {
    const conversation = new Conversation(settings());
    conversation.open(0);
    const reply = conversation.receiveBinary();
    assert.deepEqual(reply, [{ kind: 'close', code: 1003, reason: 'answers are text messages, e.g. "700"' }]);
    assert.equal(conversation.outcome, 'failed');
  });

  test('time scale shrinks the wall-clock intervals; the answer stays in service milliseconds', () => {
    const conversation = new Conversation(settings({ timeScale: 0.1 }));
    conversation.open(0);
    const ping = nextPing(conversation, 0);
    const serviceMs = Math.round(ping.intervalMs * 10);
    assert.ok(INTERVALS.includes(serviceMs));
    assert.deepEqual(sent(conversation.receive(String(serviceMs))), ['good!']);
  });

  test('jitter moves each ping up to ±jitterMs early or late, and the schedule underneath does not drift', () => {
    // The same stream gives both conversations the same intervals; only the jitter differs.
    const plain = new Conversation(settings({ rounds: 100, random: seededRandom('jitter', 1) }));
    const jittered = new Conversation(settings({ rounds: 100, jitterMs: 100, random: seededRandom('jitter', 1) }));
    plain.open(0);
    jittered.open(0);
    let early = 0;
    let late = 0;
    let last = 0;
    for (let round = 0; round < 40; round++) {
      const shift = jittered.wakeAt! - plain.wakeAt!;
      assert.ok(Math.abs(shift) <= 100, `round ${round}: shifted by ${shift} ms`);
      if (shift < 0) early++;
      if (shift > 0) late++;
      const ping = nextPing(plain, last);
      last = ping.at;
      nextPing(jittered, 0);
      plain.receive(String(ping.intervalMs));
      assert.deepEqual(sent(jittered.receive(String(ping.intervalMs))), ['good!']);
    }
    assert.ok(early > 5 && late > 5, `pings come both early (${early}) and late (${late})`);
  });

  test('the same seed gives the same intervals', () => {
    const intervals = (seed: string): number[] => {
      const conversation = new Conversation(settings({ rounds: 100, random: seededRandom(seed, 7) }));
      conversation.open(0);
      const seen: number[] = [];
      let last = 0;
      for (let round = 0; round < 20; round++) {
        const ping = nextPing(conversation, last);
        last = ping.at;
        seen.push(ping.intervalMs);
        conversation.receive(String(ping.intervalMs));
      }
      return seen;
    };
    const first = intervals('seed-a');
    assert.deepEqual(intervals('seed-a'), first);
    assert.notDeepEqual(intervals('seed-b'), first);
    assert.ok(new Set(first).size >= 3, `20 draws use several intervals: ${first}`);
  });
});

describe('stand-in token book (fake clock)', () => {
  const book = (now: { value: number }, maxProblems = 10) =>
    new ProblemBook({ lifetimeMs: 60_000, maxProblems, now: () => now.value, secretFor: (stream) => `secret-${stream}` });

  test('a token opens one conversation: a second claim is refused with 410', () => {
    const now = { value: 0 };
    const problems = book(now);
    const issued = problems.issue('me');
    assert.ok(issued.ok);
    assert.equal(problems.claim(issued.problem.token).ok, true);
    assert.deepEqual(problems.claim(issued.problem.token), { ok: false, status: 410, error: 'token already used: each token opens one conversation' });
  });

  test('a token expires after its lifetime (410), and an unknown one is 404', () => {
    const now = { value: 0 };
    const problems = book(now);
    const issued = problems.issue('me');
    assert.ok(issued.ok);
    now.value = 60_000;
    const claim = problems.claim(issued.problem.token);
    assert.equal(!claim.ok && claim.status, 410);
    assert.match(!claim.ok ? claim.error : '', /expired/);
    const unknown = problems.claim('no-such-token');
    assert.equal(!unknown.ok && unknown.status, 404);
  });

  test('only a secret earned with the same access token counts', () => {
    const problems = book({ value: 0 });
    const issued = problems.issue('me');
    assert.ok(issued.ok);
    assert.equal(problems.isEarnedSecret('me', 'secret-0'), false, 'not earned before the conversation');
    issued.problem.state = 'earned';
    assert.equal(problems.isEarnedSecret('me', 'secret-0'), true);
    assert.equal(problems.isEarnedSecret('someone else', 'secret-0'), false);
    assert.equal(problems.isEarnedSecret('me', 'secret-1'), false);
  });

  test('memory is bounded: past the limit /problem is refused until old problems are forgotten', () => {
    const now = { value: 0 };
    const problems = book(now, 3);
    for (let index = 0; index < 3; index++) assert.ok(problems.issue('me').ok);
    const refused = problems.issue('me');
    assert.equal(!refused.ok && refused.status, 503);
    now.value = 120_000;
    assert.ok(problems.issue('me').ok);
    assert.equal(problems.size, 1);
  });
});

describe('solver: reading intervals', () => {
  test('a measured time is read as the nearest of the five intervals', () => {
    assert.equal(nearestInterval(640), 700);
    assert.equal(nearestInterval(1080), 700);
    assert.equal(nearestInterval(1120), 1500);
    assert.equal(nearestInterval(1740), 1500);
    assert.equal(nearestInterval(2260), 2500);
    assert.equal(nearestInterval(9000), 3000);
  });

  test('the first ping counts from the opening, later ones from where the schedule says; good! does not move anything', () => {
    const answerer = new PingAnswerer(100);
    assert.equal(answerer.read(HELLO, 101).kind, 'hello');
    assert.deepEqual(answerer.read('ping!', 2080), { kind: 'ping', round: 1, sincePreviousMs: 1980, measuredMs: 1980, answer: 2000 });
    assert.equal(answerer.read('good!', 2090).kind, 'good');
    // Due at 2100 + 700 = 2800; the typical delay so far is the median of 0 and −20, i.e. −10.
    assert.deepEqual(answerer.read('ping!', 2790), { kind: 'ping', round: 2, sincePreviousMs: 710, measuredMs: 700, answer: 700 });
  });

  test('one late ping disturbs only its own reading, not the next one', () => {
    // The server's schedule: 1500, 3000, 2000 ms. The second ping arrives 300 ms late, the others on time.
    const answerer = new PingAnswerer(0);
    const answers = [1500, 4800, 6500].map((arrival) => answerer.read('ping!', arrival));
    const third = answers[2]!;
    assert.deepEqual(answers.map((line) => line.kind === 'ping' && line.answer), [1500, 3000, 2000]);
    assert.equal(third.kind === 'ping' && third.sincePreviousMs, 1700, 'from ping to ping it looks like 1500…');
    assert.equal(third.kind === 'ping' && third.measuredMs, 2000, '…by the schedule it is 2000');
  });

  test('with a time scale, wall-clock times are read in service milliseconds', () => {
    const answerer = new PingAnswerer(0, 0.1);
    const line = answerer.read('ping!', 152);
    assert.equal(line.kind === 'ping' && line.answer, 1500);
  });

  test('the secret and the failure messages are recognised', () => {
    const answerer = new PingAnswerer(0);
    assert.deepEqual(answerer.read('congratulations! the solution to this challenge is "abc123"', 1), { kind: 'secret', secret: 'abc123' });
    assert.deepEqual(answerer.read(MISSED, 1), { kind: 'failure', text: MISSED });
    assert.equal(answerer.read('ouch! no! that was a 700 ms interval', 1).kind, 'failure');
  });
});
