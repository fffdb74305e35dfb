// The chit-chat stand-in over real sockets on loopback (port 0), seen by an independent client (the
// `ws` package) and fetch: the texts, right, wrong and late answers, one-time and expiring tokens,
// access tokens, the solve endpoint. Every wait is for a message or an event, with a time limit.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startChitchatStandin, type ChitchatStandin, type ChitchatStandinOptions } from '../servers/chitchat-standin/standin.ts';

const WAIT_MS = 10_000;
const HELLO = 'hello! start counting the time between the pings (start from the moment you opened this connection)';
const MISSED = 'ouch! seems like you missed a beat... sorry, this conversation is over. closing socket.';
const INTERVALS = [700, 1500, 2000, 2500, 3000];
const TIME_SCALE = 0.05;
/**
 * The one test that reads intervals off its own clock runs slower: at 0.5 the half gap between
 * neighbouring intervals (250 ms) is 125 ms of wall clock, so a loaded machine that delivers a ping
 * late by tens of milliseconds still reads the right interval.
 */
const TIMED_SCALE = 0.5;

/** A `ws` client that queues every message, so a test can wait for the next one. */
class TestClient {
  readonly socket: WebSocket;
  readonly opened: Promise<void>;
  readonly #closed: Promise<{ code: number; reason: string }>;
  #queue: { text: string; at: number }[] = [];
  #waiting: ((message: { text: string; at: number }) => void) | undefined;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => {
      const message = { text: data.toString(), at: performance.now() };
      if (this.#waiting) {
        const deliver = this.#waiting;
        this.#waiting = undefined;
        deliver(message);
      } else this.#queue.push(message);
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
    this.#closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** The close, waited for from now (not from when the client was made: a conversation takes a while). */
  get closed(): Promise<{ code: number; reason: string }> {
    return withTimeout(this.#closed, 'close');
  }

  next(): Promise<{ text: string; at: number }> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return withTimeout(new Promise((resolve) => (this.#waiting = resolve)), 'a message');
  }

  async nextText(): Promise<string> {
    return (await this.next()).text;
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the upgrade was answered with when it was refused: status and body. */
function refusal(url: string): Promise<{ status: number; body: string }> {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
    socket.once('error', () => {});
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
  }), 'refusal');
}

async function problemToken(standin: ChitchatStandin, accessToken = 'me'): Promise<string> {
  const response = await fetch(`${standin.url}/challenges/websocket_chit_chat/problem?access_token=${accessToken}`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { token: string };
  assert.match(body.token, /^[0-9a-f]{32}$/);
  return body.token;
}

const wsUrl = (standin: ChitchatStandin, token: string): string => `${standin.url.replace('http', 'ws')}/_/ws/${token}`;

async function solve(standin: ChitchatStandin, secret: string, accessToken = 'me', rawBody?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${standin.url}/challenges/websocket_chit_chat/solve?access_token=${accessToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: rawBody ?? JSON.stringify({ secret }),
  });
  return { status: response.status, body: await response.json() };
}

describe('chit-chat stand-in', () => {
  let standin: ChitchatStandin;
  let tokenClock = 0;
  const options: ChitchatStandinOptions = { rounds: 3, timeScale: TIME_SCALE, seed: 'standin-test', now: () => tokenClock };

  before(async () => {
    standin = await startChitchatStandin(options);
  });
  after(async () => {
    await standin.close();
  });

  test('a full conversation: hello, pings at the chosen intervals, good!, the secret, a clean 1000 — and /solve accepts it', async () => {
    const timed = await startChitchatStandin({ ...options, timeScale: TIMED_SCALE });
    try {
      await fullConversation(timed);
    } finally {
      await timed.close();
    }
  });

  async function fullConversation(service: ChitchatStandin): Promise<void> {
    const client = new TestClient(wsUrl(service, await problemToken(service)));
    await client.opened;
    const openedAt = performance.now();
    assert.equal(await client.nextText(), HELLO);
    let last = openedAt;
    let final = '';
    for (let round = 1; round <= 3; round++) {
      const ping = await client.next();
      assert.equal(ping.text, 'ping!');
      const serviceMs = (ping.at - last) / TIMED_SCALE;
      last = ping.at;
      const answer = INTERVALS.reduce((best, interval) => (Math.abs(interval - serviceMs) < Math.abs(best - serviceMs) ? interval : best));
      client.socket.send(String(answer));
      assert.equal(await client.nextText(), 'good!');
    }
    final = await client.nextText();
    const secret = /^congratulations! the solution to this challenge is "([0-9a-f]+)"$/.exec(final)?.[1];
    assert.ok(secret, final);
    assert.deepEqual(await client.closed, { code: 1000, reason: 'conversation complete' });

    assert.deepEqual(await solve(service, secret), { status: 200, body: { result: 'passed' } });
    assert.equal((await solve(service, secret, 'someone-else')).status, 400, 'a secret counts only for the access token that earned it');
    const wrong = await solve(service, 'not-it');
    assert.equal(wrong.status, 400);
    assert.match((wrong.body as { error: string }).error, /not the secret/);
  }

  test('a wrong answer gets "ouch! no! that was a …" and a clean close with 4001', async () => {
    const client = new TestClient(wsUrl(standin, await problemToken(standin)));
    assert.equal(await client.nextText(), HELLO);
    assert.equal(await client.nextText(), 'ping!');
    client.socket.send('12345');
    assert.match(await client.nextText(), /^ouch! no! that was a (700|1500|2000|2500|3000) ms interval, you said 12345\. sorry, this conversation is over\. closing socket\.$/);
    assert.deepEqual(await client.closed, { code: 4001, reason: 'wrong interval' });
  });

  test('no answer: the next ping is the missed-beat message, then a clean close with 4000', async () => {
    const client = new TestClient(wsUrl(standin, await problemToken(standin)));
    assert.equal(await client.nextText(), HELLO);
    assert.equal(await client.nextText(), 'ping!');
    assert.equal(await client.nextText(), MISSED);
    assert.deepEqual(await client.closed, { code: 4000, reason: 'missed a beat' });
  });

  test('a binary answer is refused with 1003', async () => {
    const client = new TestClient(wsUrl(standin, await problemToken(standin)));
    await client.opened;
    client.socket.send(Buffer.from([1, 2, 3]));
    assert.equal((await client.closed).code, 1003);
  });

  test('a reused token is refused before the upgrade with 410, an unknown one with 404', async () => {
    const token = await problemToken(standin);
    const first = new TestClient(wsUrl(standin, token));
    assert.equal(await first.nextText(), HELLO);
    const reused = await refusal(wsUrl(standin, token));
    assert.equal(reused.status, 410);
    assert.match(reused.body, /already used/);
    first.socket.close();
    await first.closed;
    const unknown = await refusal(wsUrl(standin, 'f'.repeat(32)));
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /unknown token/);
  });

  test('an expired token is refused with 410 "token expired"', async () => {
    const token = await problemToken(standin);
    tokenClock += 60 * 60 * 1000;
    try {
      const expired = await refusal(wsUrl(standin, token));
      assert.equal(expired.status, 410);
      assert.match(expired.body, /token expired/);
    } finally {
      tokenClock += 60 * 60 * 1000; // past two lifetimes: later tests start with a clean book
    }
  });

  test('the problem and solve endpoints need an access_token; malformed solve bodies get 400 with a reason', async () => {
    const missing = await fetch(`${standin.url}/challenges/websocket_chit_chat/problem`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { error: 'access_token query parameter is required' });
    const notJson = await solve(standin, '', 'me', '{secret');
    assert.equal(notJson.status, 400);
    assert.match((notJson.body as { error: string }).error, /JSON like/);
  });

  test('shutting down ends a conversation in progress with 1001', async () => {
    const own = await startChitchatStandin({ timeScale: TIME_SCALE });
    try {
      const client = new TestClient(wsUrl(own, await problemToken(own)));
      assert.equal(await client.nextText(), HELLO);
      await own.close();
      assert.equal((await client.closed).code, 1001);
    } finally {
      await own.close();
    }
  });
});

describe('chit-chat stand-in with a required access token', () => {
  test('another access token is refused with 401', async () => {
    const standin = await startChitchatStandin({ accessToken: 'the-right-one' });
    try {
      const wrong = await fetch(`${standin.url}/challenges/websocket_chit_chat/problem?access_token=guess`);
      assert.equal(wrong.status, 401);
      assert.deepEqual(await wrong.json(), { error: 'unknown access_token' });
      await problemToken(standin, 'the-right-one');
    } finally {
      await standin.close();
    }
  });
});
