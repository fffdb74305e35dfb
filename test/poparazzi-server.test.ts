// End-to-end tests of the Poparazzi stream over real WebSockets on loopback (port 0): the document's
// conversation byte for byte, every failure path with its close code, the abuse case the document
// points out, the HTTP routes, and the demo client. Every wait is for a message or an event.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPoparazziClient } from '../clients/poparazzi/client.ts';
import { connect, type WebSocketConnection } from '../lib/websocket/index.ts';
import { startPoparazzi, type RunningPoparazzi } from '../servers/poparazzi/server.ts';
import { runProgram } from './helpers/program.ts';

const WAIT_MS = 5000;
const DOCUMENT_USER = '2eed7a98-9f12-4d26-ad0f-a1f009b8e15b';
const DOCUMENT_VIEWS = {
  'F7E71599-70DF-4918-A882-DD3C1D53070E': 1,
  '8A213848-5156-4B82-88B6-294AA2D80974': 3,
  '6847ECD4-0DCA-4084-96B4-976BE22F1CB6': 1,
  '269DB696-6312-4BBE-848F-1B2B9C7A2959': 2,
  '2BD768F5-8891-4B90-9E99-311F6F88B111': 1,
};

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A stream connection whose received text messages and close a test can wait for, one at a time. */
class StreamClient {
  readonly #queue: string[] = [];
  readonly #waiters: ((text: string) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly connection: WebSocketConnection) {
    connection.on('message', (data) => {
      const text = data.toString('utf8');
      const waiter = this.#waiters.shift();
      if (waiter) waiter(text);
      else this.#queue.push(text);
    });
    connection.on('error', () => {});
    this.closed = new Promise((resolve) => connection.once('close', (code, reason) => resolve({ code, reason })));
  }

  static async open(server: RunningPoparazzi): Promise<StreamClient> {
    return new StreamClient(await connect(`${server.url}/`, { handshakeTimeoutMs: WAIT_MS }));
  }

  send(value: unknown): void {
    this.connection.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** The next message's raw text, to check the exact bytes the document shows. */
  nextText(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return withTimeout(new Promise((resolve) => this.#waiters.push(resolve)), 'a message');
  }

  async next(): Promise<Record<string, any>> {
    return JSON.parse(await this.nextText());
  }

  closeEvent(): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, 'the close');
  }

  /** Authenticate as a fresh session (or `userId`); returns the user id. */
  async authenticate(server: RunningPoparazzi, userId?: string): Promise<string> {
    const session = server.sessions.issue(userId);
    this.send({ authorization: `Bearer ${session.token}` });
    assert.deepEqual(await this.next(), { authenticated: true });
    return session.user_id;
  }
}

async function viewsOf(server: RunningPoparazzi, postId: string): Promise<number> {
  const response = await fetch(`${server.url}/posts/${postId}/views`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { views: number }).views;
}

describe('Poparazzi stream', () => {
  let server: RunningPoparazzi;
  const clients: StreamClient[] = [];
  const open = async (target = server): Promise<StreamClient> => {
    const client = await StreamClient.open(target);
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startPoparazzi({ authenticationTimeoutMs: 2000 });
  });
  after(async () => {
    for (const client of clients) client.connection.terminate();
    await server.close();
  });

  test('the document\'s conversation, exactly', async () => {
    const { token } = server.sessions.issue(DOCUMENT_USER);
    const client = await open();
    client.send(`{\n  "authorization": "Bearer ${token}"\n}`);
    assert.equal(await client.nextText(), '{"authenticated":true}');
    client.send('{\n  "state": {\n    "active_group_id": null,\n    "is_typing": null\n  }\n}');
    assert.deepEqual(await client.next(), { state: { user_id: DOCUMENT_USER, active_group_id: null, is_typing: false } });
    client.send({ view_counts: DOCUMENT_VIEWS });
    assert.equal(await client.nextText(), '{"view_counts":true}');
    assert.equal(await viewsOf(server, '8a213848-5156-4b82-88b6-294aa2d80974'), 1, 'a reported 3 counts as one view');
    client.connection.close();
    assert.equal((await client.closeEvent()).code, 1000);
  });

  test('a token that belongs to no session: authenticated:false, then close 4001', async () => {
    const client = await open();
    client.send({ authorization: 'Bearer 9c567d50-a2fd-4f26-a221-d71f4102136b' });
    assert.deepEqual(await client.next(), { authenticated: false });
    assert.deepEqual(await client.closeEvent(), { code: 4001, reason: 'authentication failed' });
  });

  test('a message before authentication: an error, then close 4003', async () => {
    const client = await open();
    client.send({ view_counts: { 'F7E71599-70DF-4918-A882-DD3C1D53070E': 1 } });
    assert.equal((await client.next()).error.code, 'not_authenticated');
    assert.equal((await client.closeEvent()).code, 4003);
  });

  test('malformed JSON after authentication is an error; the stream stays usable', async () => {
    const client = await open();
    const userId = await client.authenticate(server);
    client.send('{"state": {');
    const { error } = await client.next();
    assert.equal(error.code, 'invalid_json');
    assert.match(error.message, /not valid JSON/);
    client.send({ state: { active_group_id: 12, is_typing: true } });
    assert.deepEqual(await client.next(), { state: { user_id: userId, active_group_id: 12, is_typing: true } });
  });

  test('bad shapes are answered with the field at fault', async () => {
    const client = await open();
    await client.authenticate(server);
    const cases: [unknown, string, RegExp][] = [
      [{ state: { is_typing: 'no' } }, 'invalid_state', /is_typing/],
      [{ state: 'typing' }, 'invalid_state', /state must be an object/],
      [{ view_counts: ['F7E71599-70DF-4918-A882-DD3C1D53070E'] }, 'invalid_view_counts', /object of post id/],
      [{ likes: {} }, 'unknown_message', /expected authorization, state or view_counts/],
      [[], 'invalid_message', /JSON object/],
    ];
    for (const [message, code, pattern] of cases) {
      client.send(message);
      const { error } = await client.next();
      assert.equal(error.code, code, JSON.stringify(message));
      assert.match(error.message, pattern);
    }
  });

  test('non-UUID posts and zero, negative, fractional or huge counts refuse the batch and count nothing', async () => {
    const client = await open();
    await client.authenticate(server);
    const good = 'a0000000-0000-4000-8000-00000000000a';
    for (const [key, count] of [['not-a-post', 1], [good, 0], [good, -1], [good, 2.5], [good, 1_000_000_000], [good, '1']] as const) {
      client.send({ view_counts: { [good]: 1, [key === good ? 'b0000000-0000-4000-8000-00000000000b' : key]: count } });
      const { error } = await client.next();
      assert.equal(error.code, 'invalid_view_counts', `${key}=${count}`);
      assert.equal(Object.keys(error.entries).length, 1);
    }
    assert.equal(await viewsOf(server, good), 0);
  });

  test('an oversize batch is refused: too many entries, or too many bytes', async () => {
    const client = await open();
    await client.authenticate(server);
    const entries: Record<string, number> = {};
    for (let index = 0; index < 101; index++) entries[`c0000000-0000-4000-8000-${String(index).padStart(12, '0')}`] = 1;
    client.send({ view_counts: entries });
    assert.equal((await client.next()).error.code, 'too_many_entries');
    client.send(`{"view_counts":{"c0000000-0000-4000-8000-000000000001":1${' '.repeat(9000)}}}`);
    assert.equal((await client.next()).error.code, 'message_too_large');
    assert.equal(await viewsOf(server, 'c0000000-0000-4000-8000-000000000001'), 0);
    client.send({ state: {} });
    assert.ok((await client.next()).state, 'still open after both');
  });

  test('a frame beyond the hard limit ends the stream with 1009', async () => {
    const client = await open();
    await client.authenticate(server);
    client.send('x'.repeat(70 * 1024));
    assert.equal((await client.closeEvent()).code, 1009);
  });

  test('the abuse from the document: a huge count and repeated reports leave one view per user', async () => {
    const post = 'd0000000-0000-4000-8000-00000000000d';
    const attacker = await open();
    const attackerId = await attacker.authenticate(server);
    attacker.send({ view_counts: { [post]: 999_999_999 } });
    assert.equal((await attacker.next()).error.code, 'invalid_view_counts');
    assert.equal(await viewsOf(server, post), 0);
    attacker.send({ view_counts: { [post]: 1 } });
    assert.deepEqual(await attacker.next(), { view_counts: true });
    for (let repeat = 0; repeat < 5; repeat++) {
      attacker.send({ view_counts: { [post.toUpperCase()]: 1000 } });
      assert.deepEqual(await attacker.next(), { view_counts: true, ignored: { [post.toUpperCase()]: 'already counted in this window' } });
    }
    // Reconnecting as the same user resets nothing.
    const again = await open();
    await again.authenticate(server, attackerId);
    again.send({ view_counts: { [post]: 1 } });
    assert.deepEqual(await again.next(), { view_counts: true, ignored: { [post]: 'already counted in this window' } });
    assert.equal(await viewsOf(server, post), 1);
  });

  test('another user adds one view; the first user again adds none', async () => {
    const post = 'e0000000-0000-4000-8000-00000000000e';
    const user = 'e1111111-0000-4000-8000-000000000001';
    for (const [userId, expected] of [[user, { view_counts: true }], [user, { view_counts: true, ignored: { [post]: 'already counted in this window' } }],
      ['e2222222-0000-4000-8000-000000000002', { view_counts: true }]] as const) {
      const client = await open();
      await client.authenticate(server, userId);
      client.send({ view_counts: { [post]: 1 } });
      assert.deepEqual(await client.next(), expected);
    }
    assert.equal(await viewsOf(server, post), 2);
  });

  test('no authentication in time: close 4002', async () => {
    const quick = await startPoparazzi({ authenticationTimeoutMs: 50 });
    try {
      const client = await StreamClient.open(quick);
      assert.deepEqual(await client.closeEvent(), { code: 4002, reason: 'authentication timed out' });
    } finally {
      await quick.close();
    }
  });

  test('rate limit: an error per dropped message, then close 1008 for persistent abuse', async () => {
    const limited = await startPoparazzi({ rateLimit: { burst: 3, perSecond: 0.001, maxRefusals: 2 } });
    try {
      const client = await StreamClient.open(limited);
      await client.authenticate(limited);
      for (let index = 0; index < 10; index++) client.send({ state: {} });
      assert.ok((await client.next()).state);
      assert.ok((await client.next()).state);
      assert.equal((await client.next()).error.code, 'rate_limited');
      assert.equal((await client.next()).error.code, 'rate_limited');
      assert.deepEqual(await client.closeEvent(), { code: 1008, reason: 'message rate limit exceeded' });
    } finally {
      await limited.close();
    }
  });

  test('POST /sessions issues a token the stream accepts, for a given user or a new one', async () => {
    const response = await fetch(`${server.url}/sessions`, { method: 'POST', body: JSON.stringify({ user_id: DOCUMENT_USER.toUpperCase() }) });
    assert.equal(response.status, 201);
    const session = (await response.json()) as { token: string; user_id: string };
    assert.equal(session.user_id, DOCUMENT_USER);
    const client = await open();
    client.send({ authorization: `Bearer ${session.token}` });
    assert.deepEqual(await client.next(), { authenticated: true });
    const fresh = await fetch(`${server.url}/sessions`, { method: 'POST' });
    assert.equal(fresh.status, 201);
    assert.match(((await fresh.json()) as { user_id: string }).user_id, /^[0-9a-f-]{36}$/);
  });

  test('POST /sessions refuses bad bodies with 400 and a reason', async () => {
    for (const body of ['{"user_id":"admin"}', 'not json', '[1]']) {
      const response = await fetch(`${server.url}/sessions`, { method: 'POST', body });
      assert.equal(response.status, 400, body);
      assert.ok(((await response.json()) as { error: { message: string } }).error.message);
    }
  });

  test('GET /posts/:id/views: the count in lower case, 0 for an unseen post, 400 for a non-UUID', async () => {
    const unseen = await fetch(`${server.url}/posts/F0000000-0000-4000-8000-00000000000F/views`);
    assert.deepEqual(await unseen.json(), { post_id: 'f0000000-0000-4000-8000-00000000000f', views: 0 });
    const bad = await fetch(`${server.url}/posts/123/views`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_post_id');
  });

  test('a plain GET / serves a page; server close ends open streams with 1001', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Poparazzi/);
    const closing = await startPoparazzi();
    const client = await StreamClient.open(closing);
    await client.authenticate(closing);
    await closing.close();
    assert.equal((await client.closeEvent()).code, 1001);
  });

  test('the demo client: session, authentication, state echo and view report', async () => {
    const lines: string[] = [];
    const post = 'aaaaaaaa-0000-4000-8000-000000000001';
    const result = await runPoparazziClient({ url: server.url, viewCounts: { [post]: 2 }, timeoutMs: WAIT_MS, report: (line) => lines.push(line) });
    assert.equal(result.ok, true, result.failure);
    assert.deepEqual(result.received, [
      { authenticated: true },
      { state: { user_id: result.userId, active_group_id: null, is_typing: false } },
      { view_counts: true },
    ]);
    assert.equal(result.closeCode, 1000);
    assert.ok(lines.some((line) => line.startsWith('← {"view_counts":true}')));
    assert.equal(await viewsOf(server, post), 1);
  });

  test('the demo client reports a refused token as a failure', async () => {
    const result = await runPoparazziClient({ url: server.url, token: '00000000-0000-4000-8000-000000000000', timeoutMs: WAIT_MS });
    assert.equal(result.ok, false);
    assert.match(result.failure!, /authentication refused/);
  });
});

describe('npm run poparazzi -- --no-sessions', () => {
  test('neither the banner nor the index page advertises POST /sessions, and it is not served', async () => {
    const running = runProgram('servers/poparazzi/main.ts', ['--port', '0', '--no-sessions']);
    const banner = await running.printed(/ws:\/\/127\.0\.0\.1:\d+\//);
    try {
      assert.doesNotMatch(banner, /POST/);
      const base = `http://${/ws:\/\/(127\.0\.0\.1:\d+)/.exec(banner)![1]}`;
      const page = await (await fetch(`${base}/`)).text();
      assert.doesNotMatch(page, /sessions/);
      assert.equal((await fetch(`${base}/sessions`, { method: 'POST' })).status, 404);
    } finally {
      running.child.kill('SIGTERM');
      assert.equal(await running.exited, 0);
    }
  });

  test('without it, the banner and the index page show where tokens come from', async () => {
    const running = runProgram('servers/poparazzi/main.ts', ['--port', '0']);
    const banner = await running.printed(/ws:\/\/127\.0\.0\.1:\d+\//);
    try {
      assert.match(banner, /POST http:\/\/127\.0\.0\.1:\d+\/sessions/);
      const base = `http://${/ws:\/\/(127\.0\.0\.1:\d+)/.exec(banner)![1]}`;
      assert.match(await (await fetch(`${base}/`)).text(), /POST \/sessions/);
    } finally {
      running.child.kill('SIGTERM');
      assert.equal(await running.exited, 0);
    }
  });
});
