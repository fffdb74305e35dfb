// BATCHAT in the shared mode, with real processes and a real redis-server: one chat across processes.
// Lines reach users on every process, /who lists everyone everywhere, names are unique across processes,
// and a process killed with SIGKILL has its users gone from /who elsewhere within 10 s.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllNorthPoles, startNorthPole, type NorthPoleProcess } from './helpers/north-pole-process.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { ChatUser } from './helpers/telnet-client.ts';

const ARGS = ['--chat-port', '0'];

describe('BATCHAT shared through Redis', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let first: NorthPoleProcess;
  let second: NorthPoleProcess;
  const users: ChatUser[] = [];

  before(async () => {
    redis = await startRedis();
    [first, second] = await Promise.all([startNorthPole([...ARGS, '--redis', redis.url]), startNorthPole([...ARGS, '--redis', redis.url])]);
  });

  after(async () => {
    for (const user of users) user.socket.destroy();
    killAllNorthPoles();
    await redis?.stop();
  });

  const join = async (server: NorthPoleProcess, name: string): Promise<ChatUser> => {
    const user = await ChatUser.join(server.chatPort!, name);
    users.push(user);
    return user;
  };

  test('a line said on one process reaches the users of the other; /who lists both everywhere, in joining order', async () => {
    const alice = await join(first, 'alice');
    const bob = await join(second, 'bob');
    alice.say('hello across processes');
    assert.equal(await bob.waitFor('<alice>'), '<alice> hello across processes');
    bob.say('hi alice');
    assert.equal(await alice.waitFor('<bob>'), '<bob> hi alice');
    assert.deepEqual(await alice.who(), ['alice', 'bob']);
    assert.deepEqual(await bob.who(), ['alice', 'bob']);
  });

  test('a name taken on one process is refused on the other (any case), and free again once its user quits', async () => {
    const mike = await join(first, 'Mike');
    const other = await ChatUser.connect(second.chatPort!);
    users.push(other);
    other.say('mike');
    assert.equal(await other.waitFor('is taken'), 'The name mike is taken, please pick another.');
    const mikeGone = new Promise((resolve) => mike.socket.once('close', resolve));
    mike.say('/quit');
    await mikeGone;
    other.say('mike');
    await other.waitFor('Hey, mike!');
    assert.ok((await other.who()).includes('mike'));
  });

  test('a process killed with SIGKILL has its users gone from /who elsewhere within 10 s', async () => {
    const doomed = await startNorthPole([...ARGS, '--redis', redis.url]);
    await join(doomed, 'carol');
    const watcher = await join(first, 'watcher');
    assert.ok((await watcher.who()).includes('carol'));
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // Ask again and again until carol is gone: the presence key's TTL is what ends her.
    while ((await watcher.who()).includes('carol')) {
      assert.ok(Date.now() - killedAt < 10_000, 'carol still listed 10 s after her process was killed');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Her name is free again.
    await join(second, 'carol');
  });
});
