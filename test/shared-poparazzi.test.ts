// Poparazzi in the shared mode, with real processes and a real redis-server: a token from POST /sessions on
// one process works on the other, and the one-view-per-user-per-post rule and the counts hold across
// processes, also when the same view is reported on both at the same moment.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type WebSocketConnection } from '../lib/websocket/index.ts';
import { httpCall, killAllNorthPoles, startNorthPole, type NorthPoleProcess } from './helpers/north-pole-process.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { nextMessage } from './helpers/wait.ts';

describe('Poparazzi shared through Redis (two processes)', { skip: redisMissing }, () => {
  let redis: RedisServer;
  let first: NorthPoleProcess;
  let second: NorthPoleProcess;
  const streams: WebSocketConnection[] = [];

  before(async () => {
    redis = await startRedis();
    [first, second] = await Promise.all([startNorthPole(['--no-chat', '--redis', redis.url]), startNorthPole(['--no-chat', '--redis', redis.url])]);
  });

  after(async () => {
    for (const stream of streams) stream.terminate();
    killAllNorthPoles();
    await redis?.stop();
  });

  const issue = async (server: NorthPoleProcess, userId?: string): Promise<{ token: string; user_id: string }> => {
    const answer = await httpCall(server.port, 'POST', '/sessions', JSON.stringify(userId === undefined ? {} : { user_id: userId }));
    assert.equal(answer.status, 201, answer.body);
    return JSON.parse(answer.body);
  };

  const open = async (server: NorthPoleProcess, token: string): Promise<{ stream: WebSocketConnection; reply: unknown }> => {
    const stream = await connect(`ws://127.0.0.1:${server.port}/`);
    streams.push(stream);
    stream.send(JSON.stringify({ authorization: `Bearer ${token}` }));
    return { stream, reply: JSON.parse((await nextMessage(stream)).text) };
  };

  const report = async (stream: WebSocketConnection, postId: string): Promise<Record<string, unknown>> => {
    stream.send(JSON.stringify({ view_counts: { [postId]: 1 } }));
    return JSON.parse((await nextMessage(stream)).text);
  };

  const viewsOn = async (server: NorthPoleProcess, postId: string): Promise<number> => {
    const answer = await httpCall(server.port, 'GET', `/posts/${postId}/views`);
    assert.equal(answer.status, 200, answer.body);
    return JSON.parse(answer.body).views;
  };

  test('a token issued on one process authenticates on the other; an unknown one does not', async () => {
    const session = await issue(first);
    assert.deepEqual((await open(second, session.token)).reply, { authenticated: true });
    assert.deepEqual((await open(second, randomUUID())).reply, { authenticated: false });
  });

  test('one view per user per post, whichever process it is reported on; the count is the same on both', async () => {
    const post = randomUUID();
    const user = await issue(first);
    const otherUser = await issue(second);
    const onFirst = (await open(first, user.token)).stream;
    const onSecond = (await open(second, user.token)).stream;
    assert.deepEqual(await report(onFirst, post), { view_counts: true });
    assert.deepEqual(await report(onSecond, post), { view_counts: true, ignored: { [post]: 'already counted in this window' } });
    assert.deepEqual(await report((await open(second, otherUser.token)).stream, post), { view_counts: true });
    assert.equal(await viewsOn(first, post), 2);
    assert.equal(await viewsOn(second, post), 2);
  });

  test('the same view reported at once on ten streams over both processes counts once', async () => {
    const post = randomUUID();
    const user = await issue(first);
    const opened = await Promise.all(Array.from({ length: 10 }, (_, index) => open(index % 2 === 0 ? first : second, user.token)));
    const answers = await Promise.all(opened.map(({ stream }) => report(stream, post)));
    assert.equal(answers.filter((answer) => answer.ignored === undefined).length, 1, JSON.stringify(answers));
    assert.equal(await viewsOn(first, post), 1);
    assert.equal(await viewsOn(second, post), 1);
  });
});
