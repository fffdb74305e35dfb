// Day 19 in the shared mode, with real processes and a real redis-server: two `npm start --redis`
// processes are one service. A tweet reaches the room's members on both processes, /19/views is the
// global count on either, /19/reset resets it everywhere, and the validator's heaviest load (20 writers
// × 200 tweets, 80,000 views) passes with the writers split across the two processes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpCall, killAllNorthPoles, startNorthPole, type NorthPoleProcess } from './helpers/north-pole-process.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { RoomMember } from './helpers/room-member.ts';

const LOAD_WAIT_MS = 60_000; // the whole load, on a loaded two-core machine

async function views(server: NorthPoleProcess): Promise<number> {
  const answer = await httpCall(server.port, 'GET', '/19/views');
  assert.equal(answer.status, 200, answer.body);
  return Number(answer.body);
}

describe('day 19 shared through Redis (two processes)', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let first: NorthPoleProcess;
  let second: NorthPoleProcess;
  const members: RoomMember[] = [];

  before(async () => {
    redis = await startRedis();
    [first, second] = await Promise.all([
      startNorthPole(['--no-chat', '--redis', redis.url]),
      startNorthPole(['--no-chat'], { env: { REDIS_URL: redis.url } }),
    ]);
  });

  after(async () => {
    for (const member of members) member.socket.terminate();
    killAllNorthPoles();
    await redis?.stop();
  });

  const join = async (server: NorthPoleProcess, room: number, user: string): Promise<RoomMember> => {
    const member = new RoomMember(server.port, room, user);
    members.push(member);
    await member.opened;
    return member;
  };

  test('the banner says the process is shared, and through which Redis', () => {
    assert.match(first.output(), new RegExp(`shared through\\s+redis://127\\.0\\.0\\.1:${redis.port}`));
    assert.match(second.output(), /shared through/);
  });

  test('a tweet reaches every member of its room on both processes, once; another room hears nothing', async () => {
    const alice = await join(first, 3, 'alice');
    const bob = await join(second, 3, 'bob');
    const carol = await join(second, 4, 'carol');
    alice.tweet('hello from the first process');
    await Promise.all([alice.until(1), bob.until(1)]);
    const expected = JSON.stringify({ user: 'alice', message: 'hello from the first process' });
    assert.deepEqual(alice.received, [expected]);
    assert.deepEqual(bob.received, [expected]);
    // Carol's own tweet is the first thing she receives: nothing from room 3 came before it.
    carol.tweet('marker');
    await carol.until(1);
    assert.deepEqual(carol.received, [JSON.stringify({ user: 'carol', message: 'marker' })]);
    bob.tweet('and back');
    await Promise.all([alice.until(2), bob.until(2)]);
    assert.equal(alice.received[1], JSON.stringify({ user: 'bob', message: 'and back' }));
    assert.equal(bob.received.length, 2);
  });

  test('/19/reset on one process resets the count on both; /19/views is the global count on either', async () => {
    assert.equal((await httpCall(second.port, 'POST', '/19/reset')).status, 200);
    assert.equal(await views(first), 0);
    assert.equal(await views(second), 0);
    const dave = await join(first, 5, 'dave');
    const erin = await join(second, 5, 'erin');
    dave.tweet('one');
    erin.tweet('two');
    await Promise.all([dave.until(2), erin.until(2)]);
    assert.equal(await views(first), 4);
    assert.equal(await views(second), 4);
  });

  test('20 writers × 200 tweets split across the two processes: /19/views is 80,000 on both', async (context) => {
    const USERS = 20;
    const TWEETS = 200;
    const room: RoomMember[] = [];
    for (let user = 0; user < USERS; user++) room.push(await join(user % 2 === 0 ? first : second, 7, `user${user}`));
    for (const member of room) member.socket.pause(); // nobody reads until every tweet is sent
    assert.equal((await httpCall(first.port, 'POST', '/19/reset')).status, 200);
    // A view handed out while the reset is on its way belongs to the old count (shared-redis.ts): read the
    // count on both first, which makes each process write under the new epoch, so no tweet below races it.
    assert.equal(await views(second), 0);
    assert.equal(await views(first), 0);

    const started = performance.now();
    let midway: Promise<number> | undefined;
    await Promise.all(room.map(async (member, user) => {
      for (let index = 0; index < TWEETS; index++) {
        // The validator reads the counter while its writers are busy: it must answer, with a number.
        if (user === 0 && index === TWEETS / 2) midway = views(second);
        member.tweet(`tweet ${index} from user ${user}, with some festive padding 🎄`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }));
    const duringLoad = await midway!;
    assert.ok(Number.isInteger(duringLoad) && duringLoad >= 0 && duringLoad <= USERS * TWEETS * USERS, `mid-load count ${duringLoad}`);
    for (const member of room) member.socket.resume();
    await Promise.all(room.map((member) => member.until(USERS * TWEETS, LOAD_WAIT_MS)));
    const elapsed = performance.now() - started;

    const [onFirst, onSecond] = [await views(first), await views(second)];
    context.diagnostic(`shared 20×200 load: ${onFirst} / ${onSecond} views in ${elapsed.toFixed(0)} ms (mid-load read: ${duringLoad})`);
    assert.equal(onFirst, USERS * TWEETS * USERS);
    assert.equal(onSecond, USERS * TWEETS * USERS);
  });
});
