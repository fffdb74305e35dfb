// `npm start -- --workers N --redis URL` with real processes and a real redis-server: N workers on the same
// ports (node:cluster) acting as one service, a worker killed with SIGKILL started again, and SIGTERM
// stopping them all with 1001 to every client. `--workers 2` without Redis is refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { killAllNorthPoles, START_WAIT_MS, startNorthPole, type NorthPoleProcess } from './helpers/north-pole-process.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { RoomMember } from './helpers/room-member.ts';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));

test('--workers 2 without --redis, or a --redis that is not a Redis URL, is refused with a clear message and exit status 2; --help explains both', () => {
  const refused = spawnSync(process.execPath, ['--import', 'tsx', 'servers/north-pole.ts', '--workers', '2'], {
    cwd: PROJECT, encoding: 'utf8', timeout: START_WAIT_MS, env: { ...process.env, REDIS_URL: '' },
  });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--workers 2 needs --redis URL \(or REDIS_URL\)/);
  assert.match(refused.stderr, /Usage: npm start/);
  const help = spawnSync(process.execPath, ['--import', 'tsx', 'servers/north-pole.ts', '--help'], { cwd: PROJECT, encoding: 'utf8', timeout: START_WAIT_MS });
  assert.equal(help.status, 0);
  for (const text of ['--redis URL', 'REDIS_URL', '--workers N', 'in place of a data file']) assert.ok(help.stdout.includes(text), text);
  const badUrl = spawnSync(process.execPath, ['--import', 'tsx', 'servers/north-pole.ts', '--redis', 'http://example.com'], { cwd: PROJECT, encoding: 'utf8', timeout: START_WAIT_MS });
  assert.equal(badUrl.status, 2);
  assert.match(badUrl.stderr, /--redis: invalid Redis URL/);
});

describe('--workers 2 --redis', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let server: NorthPoleProcess;
  let pids: number[];

  before(async () => {
    redis = await startRedis();
    server = await startNorthPole(['--chat-port', '0', '--workers', '2', '--redis', redis.url], { ready: /2 workers ready on the same ports \(pids (\d+), (\d+)\)/ });
    const ready = /2 workers ready on the same ports \(pids (\d+), (\d+)\)/.exec(server.output())!;
    pids = [Number(ready[1]), Number(ready[2])];
  });

  after(async () => {
    for (const pid of pids ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    killAllNorthPoles();
    await redis?.stop();
  });

  test('one banner, then the workers serve as one; a killed worker is replaced; SIGTERM closes every client with 1001 and exits 0', async () => {
    assert.equal(server.output().match(/^listening on /gm)?.length, 1, 'the banner is shown once');

    // Round-robin hands the connections to both workers in turn; Redis makes them one room.
    const members = Array.from({ length: 8 }, (_, index) => new RoomMember(server.port, 1, `member${index}`));
    await Promise.all(members.map((member) => member.opened));
    members[0]!.socket.send(JSON.stringify({ message: 'to all eight' }));
    await Promise.all(members.map((member) => member.heard('to all eight')));

    // SIGKILL one worker: its clients lose their connection (1006), the others stay, and it is replaced.
    process.kill(pids[0]!, 'SIGKILL');
    await server.printed(/worker 1 \(pid \d+\) died \(SIGKILL\); starting another/);
    const restarted = await server.printed(/worker 1 restarted \(pid (\d+)\)/);
    pids[0] = Number(restarted[1]);
    const lost = members.filter((member) => member.socket.readyState !== WebSocket.OPEN);
    await Promise.all(lost.map((member) => member.closed));
    const survivors = members.filter((member) => member.socket.readyState === WebSocket.OPEN);
    assert.ok(lost.length > 0 && survivors.length > 0, `round-robin put clients on both workers (${lost.length} lost, ${survivors.length} kept)`);

    const newcomers = Array.from({ length: 4 }, (_, index) => new RoomMember(server.port, 1, `newcomer${index}`));
    await Promise.all(newcomers.map((member) => member.opened));
    survivors[0]!.socket.send(JSON.stringify({ message: 'after the restart' }));
    await Promise.all([...survivors, ...newcomers].map((member) => member.heard('after the restart')));

    const everyone = [...survivors, ...newcomers];
    server.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all(everyone.map((member) => member.closed)), everyone.map(() => 1001));
    assert.equal(await server.exited, 0);
    assert.match(server.output(), /every worker stopped/);
  });
});
