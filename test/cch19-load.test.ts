// Day 19 under the validator's heaviest load: 20 users in one room, 200 tweets each, 1 ms apart,
// nobody reading their socket until the end. Every copy handed to a socket is a view: exactly
// 20 × 200 × 20 = 80,000, and /19/views must answer while the load runs.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { Router } from '../lib/http/router.ts';
import { registerDay19, type Day19 } from '../servers/cch19/routes.ts';

const USERS = 20;
const TWEETS_PER_USER = 200;
const EXPECTED_VIEWS = USERS * TWEETS_PER_USER * USERS;
const WAIT_MS = 30_000;

let server: HttpServer;
let day19: Day19;
let port: number;
const clients: WebSocket[] = [];

before(async () => {
  const router = new Router();
  day19 = registerDay19(router);
  server = createHttpServer({ router });
  port = (await server.listen(0, '127.0.0.1')).port;
});

after(async () => {
  for (const client of clients) client.terminate();
  await day19.close();
  server.terminate();
  await server.close();
});

function request(method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, timeout: WAIT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`${method} ${path}: ${response.statusCode}`))));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Send `count` tweets, one per timer turn of at least 1 ms, like the validator's writers. */
async function tweetSlowly(client: WebSocket, user: number, count: number, onHalfway: () => void): Promise<void> {
  for (let index = 0; index < count; index++) {
    if (index === count / 2) onHalfway();
    client.send(JSON.stringify({ message: `tweet ${index} from user ${user}, with some festive padding 🎄` }));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

test('20 writers × 200 tweets, unread until the end: exactly 80,000 views, /19/views answers during the load', async (context) => {
  await request('POST', '/19/reset');
  const received = new Array<number>(USERS).fill(0);
  for (let user = 0; user < USERS; user++) {
    const client = new WebSocket(`ws://127.0.0.1:${port}/19/ws/room/7/user/user${user}`);
    clients.push(client);
    client.on('message', () => received[user]!++);
    await withTimeout(new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    }), `user ${user} to connect`);
    client.pause(); // nobody reads until every tweet is sent
  }

  const started = performance.now();
  let halfway!: () => void;
  const halfwayReached = new Promise<void>((resolve) => (halfway = resolve));
  const writers = clients.map((client, user) => tweetSlowly(client, user, TWEETS_PER_USER, user === 0 ? halfway : () => {}));
  // Read the counter while the writers are busy: it must answer promptly, with a number.
  await withTimeout(halfwayReached, 'the writers to reach half way');
  const duringLoad = performance.now();
  const midway = Number(await withTimeout(request('GET', '/19/views'), 'GET /19/views during the load'));
  const midwayLatency = performance.now() - duringLoad;
  assert.ok(Number.isInteger(midway) && midway >= 0 && midway <= EXPECTED_VIEWS, `midway count ${midway}`);
  await Promise.all(writers);

  for (const client of clients) client.resume();
  await withTimeout(new Promise<void>((resolve) => {
    const check = (): void => (received.every((count) => count === USERS * TWEETS_PER_USER) ? resolve() : void setImmediate(check));
    check();
  }), 'every tweet to arrive');
  const elapsed = performance.now() - started;

  const finalCount = Number(await request('GET', '/19/views'));
  context.diagnostic(`20×200 load: ${finalCount} views in ${elapsed.toFixed(0)} ms (views read mid-load in ${midwayLatency.toFixed(1)} ms, showing ${midway})`);
  assert.equal(finalCount, EXPECTED_VIEWS);
  assert.ok(clients.every((client) => client.readyState === WebSocket.OPEN), 'no socket was closed');
});
