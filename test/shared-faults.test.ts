// The shared mode when Redis goes away, with real processes and a real redis-server killed (SIGKILL) and
// restarted empty: each process logs one line and keeps serving what it can alone (members on the same
// process still get each other's tweets, the chat within a process still works), cross-process delivery
// is back within 5 s of Redis returning, and the views counted meanwhile are in the global count.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpCall, killAllNorthPoles, startNorthPole, type NorthPoleProcess } from './helpers/north-pole-process.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { ChatUser } from './helpers/telnet-client.ts';
import { redisServerPid } from './helpers/redis-pid.ts';
import { RoomMember } from './helpers/room-member.ts';

const RECOVERY_MS = 5_000;

/**
 * Tweet probes from `from` until `to` hears one (each probe waits 250 ms for its echo); fails if that takes
 * longer than RECOVERY_MS from `since`. Once one got through, every later one does too (the connection is
 * back): resolves when `to` has the last one sent, whose message it returns.
 */
async function probeUntilHeard(from: RoomMember, to: RoomMember, since: number): Promise<string> {
  const heardAny = (): boolean => to.received.some((text) => (JSON.parse(text).message as string).startsWith('probe'));
  let last = '';
  for (let probe = 0; !heardAny(); probe++) {
    assert.ok(performance.now() - since < RECOVERY_MS, `no cross-process delivery ${RECOVERY_MS} ms after Redis returned`);
    last = `probe ${probe}`;
    from.tweet(last);
    await to.heard(last, 250).catch(() => {}); // not yet: probe again
  }
  await to.heard(last);
  return last;
}

const viewsOn = async (server: NorthPoleProcess): Promise<number> => Number((await httpCall(server.port, 'GET', '/19/views')).body);

describe('the shared mode when Redis is killed and restarted', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let first: NorthPoleProcess;
  let second: NorthPoleProcess;
  const sockets: RoomMember['socket'][] = [];
  const users: ChatUser[] = [];

  before(async () => {
    redis = await startRedis();
    [first, second] = await Promise.all([
      startNorthPole(['--chat-port', '0', '--redis', redis.url]),
      startNorthPole(['--chat-port', '0', '--redis', redis.url]),
    ]);
  });

  after(async () => {
    for (const socket of sockets) socket.terminate();
    for (const user of users) user.socket.destroy();
    killAllNorthPoles();
    await redis?.stop();
  });

  test('alone during the outage, one log line each, whole again within 5 s, no view lost', async (context) => {
    const [a1, a2, b1] = [new RoomMember(first.port, 9, 'a1'), new RoomMember(first.port, 9, 'a2'), new RoomMember(second.port, 9, 'b1')];
    const members = [a1, a2, b1];
    sockets.push(...members.map((member) => member.socket));
    await Promise.all(members.map((member) => member.opened));
    const [x, y, z] = [await ChatUser.join(first.chatPort!, 'x'), await ChatUser.join(first.chatPort!, 'y'), await ChatUser.join(second.chatPort!, 'z')];
    users.push(x, y, z);
    assert.equal((await httpCall(first.port, 'POST', '/19/reset')).status, 200);

    b1.tweet('before');
    await Promise.all(members.map((member) => member.heard('before')));
    assert.equal(await viewsOn(first), 3);

    await redis.kill();
    await Promise.all([first, second].map((server) => server.printed(/redis: \S+ unreachable .*serving this process alone and reconnecting/)));

    // Alone: members and chat users on the same process still reach each other.
    a1.tweet('during');
    await Promise.all([a1.heard('during'), a2.heard('during')]);
    x.say('still here');
    assert.equal(await y.waitFor('<x>'), '<x> still here');
    assert.deepEqual(await x.who(), ['x', 'y']);
    assert.equal(await viewsOn(first), 5, 'the outage answer adds this process\'s views to the others\' last known count');
    assert.equal((await httpCall(first.port, 'POST', '/19/reset')).status, 503, 'a reset needs every process');

    // Redis comes back empty (persistence is off): delivery across processes returns within 5 s.
    await redis.restart();
    const back = performance.now();
    const probe = await probeUntilHeard(a1, b1, back);
    // Every probe was delivered on a1's own process too.
    await Promise.all([a1.heard(probe), a2.heard(probe)]);
    const recoveredIn = performance.now() - back;
    x.say('across again');
    assert.equal(await z.waitFor('<x>', RECOVERY_MS), '<x> across again');

    // Every copy handed to a member is a view, those of the outage included, on whichever process.
    const delivered = members.reduce((sum, member) => sum + member.received.length, 0);
    assert.equal(await viewsOn(first), delivered);
    assert.equal(await viewsOn(second), delivered);
    assert.deepEqual((await z.who()).sort(), ['x', 'y', 'z'], 'the presence was claimed again');

    for (const server of [first, second]) {
      assert.equal(server.output().match(/unreachable/g)?.length, 1, `one line per outage:\n${server.output()}`);
      assert.match(server.output(), /reachable again; sharing resumed/);
    }
    context.diagnostic(`cross-process delivery back ${recoveredIn.toFixed(0)} ms after Redis restarted`);
  });

  test('a process started while Redis is down serves alone, then joins the others once Redis is up', async () => {
    await redis.kill();
    const late = await startNorthPole(['--no-chat', '--redis', redis.url]);
    assert.match(late.output(), /did not answer within \d+ ms; serving this process alone until it does/);
    const here = new RoomMember(late.port, 11, 'here');
    const there = new RoomMember(first.port, 11, 'there');
    sockets.push(here.socket, there.socket);
    await Promise.all([here.opened, there.opened]);
    await redis.restart();
    await probeUntilHeard(there, here, performance.now());
  });

  test('a user who leaves while Redis is unreachable (frozen, its data kept) is gone from /who once it is back', async () => {
    const ursula = await ChatUser.join(first.chatPort!, 'ursula');
    const walter = await ChatUser.join(second.chatPort!, 'walter');
    users.push(ursula, walter);
    // The previous test restarted Redis: the second process may still be reconnecting (it then lists its own users only).
    const since = Date.now();
    while (!(await walter.who()).includes('ursula')) {
      assert.ok(Date.now() - since < RECOVERY_MS, 'ursula not listed on the other process');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const outages = (server: NorthPoleProcess): number => server.output().match(/unreachable/g)?.length ?? 0;
    const before = outages(first);
    const pid = await redisServerPid(redis.url);
    process.kill(pid, 'SIGSTOP'); // connections stay open, nothing answers: the command timeout ends them
    try {
      await first.printed(new RegExp(`(?:unreachable[^]*){${before + 1}}`), 20_000);
      const left = new Promise((resolve) => ursula.socket.once('close', resolve));
      ursula.say('/quit');
      await left;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const back = Date.now();
    while ((await walter.who()).includes('ursula')) {
      assert.ok(Date.now() - back < 10_000, 'ursula still listed 10 s after Redis came back');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
});

