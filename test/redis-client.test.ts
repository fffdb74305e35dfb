// The command client against a real redis-server (started per suite on a port the OS picked): commands
// and reply types, pipelining (order, one write per tick), AUTH (password, ACL user), SELECT, CLIENT
// SETNAME, command timeout, a server killed and restarted mid-test, the bounded queue while it is down,
// quit, and a hostile server that speaks no RESP.

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRedisClient, createRedisSubscriber, RedisConnectionError, RedisReplyError, type RedisClient, type ReconnectingInfo } from '../lib/redis/index.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { waitFor } from './helpers/wait.ts';

function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RedisConnectionError, `expected a RedisConnectionError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** A TCP proxy in front of the server that counts the chunks the client writes. */
async function countingProxy(port: number): Promise<{ port: number; chunks: () => number; close(): void }> {
  let chunks = 0;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port });
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => { chunks++; upstream.write(chunk); });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    chunks: () => chunks,
    close() {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}

describe('Redis client against a real redis-server', { skip: redisMissing }, () => {
  let server: RedisServer;
  const clients: RedisClient[] = [];
  const open = (url: string, options?: Parameters<typeof createRedisClient>[1]): RedisClient => {
    const client = createRedisClient(url, options);
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  before(async () => { server = await startRedis(); });
  after(async () => {
    await Promise.all(clients.map((client) => client.disconnect()));
    await server?.stop();
  });

  test('commands and every reply type', async () => {
    const client = open(server.url);
    assert.equal(await client.send(['SET', 'greeting', 'héllo']), 'OK');
    assert.deepEqual(await client.send(['GET', 'greeting']), Buffer.from('héllo'));
    assert.equal(await client.send(['GET', 'missing']), null);
    assert.equal(await client.send(['INCRBY', 'counter', 41]), 41);
    await client.send(['RPUSH', 'list', 'a', Buffer.from([0, 255]), 3]);
    assert.deepEqual(await client.send(['LRANGE', 'list', 0, -1]), [Buffer.from('a'), Buffer.from([0, 255]), Buffer.from('3')]);
    assert.equal(await client.send(['BLPOP', 'empty-list', '0.01']), null, 'a nil array');
    const value = Buffer.alloc(3 * 1024 * 1024, 0xab);
    await client.send(['SET', 'big', value]);
    assert.ok((await client.send(['GET', 'big']) as Buffer).equals(value), 'a 3 MiB value round-trips');
  });

  test('an error reply rejects that command only, with its prefix; inside an array it stays a value', async () => {
    const client = open(server.url);
    await client.send(['SET', 'text', 'x']);
    await assert.rejects(client.send(['LPUSH', 'text', 'y']), (error: unknown) => error instanceof RedisReplyError && error.prefix === 'WRONGTYPE');
    await assert.rejects(client.send(['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', 0]), (error: unknown) => error instanceof RedisReplyError && error.prefix === 'NOSCRIPT');
    const reply = await client.send(['EVAL', "return {1, redis.error_reply('MINE went wrong'), 'ok'}", 0]) as unknown[];
    assert.equal(reply[0], 1);
    assert.ok(reply[1] instanceof RedisReplyError && reply[1].prefix === 'MINE');
    assert.equal(await client.send(['PING']), 'PONG', 'the connection is still good');
  });

  test('arguments that cannot be sent are refused before anything is queued', async () => {
    const client = open(server.url);
    await assert.rejects(client.send(['SET', 'k', undefined as unknown as string]), /argument 2 of SET is undefined/);
    await assert.rejects(client.send([]), TypeError);
    await assert.rejects(client.send(['subscribe', 'news']), /SUBSCRIBE cannot be sent on a command client: use createRedisSubscriber\(\)/);
    assert.equal(await client.send(['PING']), 'PONG');
  });

  test('pipelining: replies match commands in order, and a tick of commands goes out in one write', async () => {
    const proxy = await countingProxy(server.port);
    try {
      const client = open(`redis://127.0.0.1:${proxy.port}`);
      await waitFor(client, 'ready');
      const before = proxy.chunks();
      const replies = await Promise.all(Array.from({ length: 500 }, (_, index) => index % 2 === 0 ? client.send(['INCR', 'pipelined']) : client.send(['ECHO', `e${index}`])));
      assert.equal(proxy.chunks() - before, 1, '500 commands in one write');
      replies.forEach((reply, index) => assert.deepEqual(reply, index % 2 === 0 ? index / 2 + 1 : Buffer.from(`e${index}`)));
    } finally {
      proxy.close();
    }
  });

  test('a long pipeline of 20,000 commands gets every reply, in order', async () => {
    const client = open(server.url);
    const replies = await Promise.all(Array.from({ length: 20_000 }, () => client.send(['INCR', 'long-pipeline'])));
    replies.forEach((reply, index) => assert.equal(reply, index + 1));
  });

  test('a slow server: beyond maxQueuedCommands in flight, QUEUE_FULL at once; the rest complete', async () => {
    const client = open(server.url, { maxQueuedCommands: 10 });
    await client.send(['PING']);
    const sleeping = client.send(['DEBUG', 'SLEEP', '0.2']);
    const behind = Array.from({ length: 9 }, (_, index) => client.send(['ECHO', String(index)]));
    await rejectsWith(client.send(['PING']), 'QUEUE_FULL', /10 commands already wait for Redis \(maxQueuedCommands 10\) and Redis is not keeping up/);
    assert.equal(await sleeping, 'OK');
    assert.deepEqual((await Promise.all(behind)).map(String), ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  });

  test('commands sent before the connection is ready wait in the queue and run in order', async () => {
    const client = open(server.url);
    assert.equal(client.isReady, false);
    const replies = await Promise.all([client.send(['SET', 'early', 1]), client.send(['INCR', 'early']), client.send(['GET', 'early'])]);
    assert.deepEqual(replies, ['OK', 2, Buffer.from('2')]);
  });

  test('SELECT on connect: /3 is its own database', async () => {
    const db3 = open(`${server.url}/3`);
    const db0 = open(server.url);
    await db3.send(['SET', 'only-in-3', 'yes']);
    assert.deepEqual(await db3.send(['GET', 'only-in-3']), Buffer.from('yes'));
    assert.equal(await db0.send(['GET', 'only-in-3']), null);
  });

  test('CLIENT SETNAME on connect', async () => {
    const client = open(server.url, { name: 'handrolled-test' });
    assert.deepEqual(await client.send(['CLIENT', 'GETNAME']), Buffer.from('handrolled-test'));
  });

  test('command timeout: the late command fails with TIMEOUT, the one behind it with CONNECTION_LOST, then the client reconnects', async () => {
    const client = open(server.url, { commandTimeoutMs: 200 });
    await client.send(['PING']);
    const ready = waitFor(client, 'ready');
    const slow = rejectsWith(client.send(['DEBUG', 'SLEEP', '0.6']), 'TIMEOUT', /DEBUG got no reply within 200 ms \(it may have run\)/);
    const behind = rejectsWith(client.send(['PING']), 'CONNECTION_LOST', /reset after DEBUG timed out .*may or may not have run/);
    await Promise.all([slow, behind, ready]);
    // Once the server has woken up (another connection's PING is answered), the reconnected client works.
    await open(server.url).send(['PING']);
    assert.equal(await client.send(['PING']), 'PONG');
  });

  test('quit: what was sent gets its reply, then the connection closes and later commands fail with CLOSED', async () => {
    const client = open(server.url);
    const pending = client.send(['SET', 'before-quit', 'v']);
    const ended = waitFor(client, 'end');
    await client.quit();
    await ended;
    assert.equal(await pending, 'OK');
    await rejectsWith(client.send(['PING']), 'CLOSED');
    assert.equal(client.isReady, false);
  });

  test('a URL that is not redis:// is refused at once', () => {
    assert.throws(() => createRedisClient('http://127.0.0.1:6379'), (error: unknown) => error instanceof RedisConnectionError && error.code === 'INVALID_URL');
  });
});

describe('Redis client: AUTH on connect', { skip: redisMissing }, () => {
  let server: RedisServer;
  const clients: RedisClient[] = [];
  before(async () => {
    server = await startRedis({ password: 'default s3cret', args: ['--user', 'alice', 'on', '>p@ss:w/rd', '~*', '&*', '+@all'] });
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.disconnect()));
    await server?.stop();
  });
  const open = (url: string): RedisClient => {
    const client = createRedisClient(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  test('with a password only (requirepass), percent-encoded', async () => {
    const client = open(`redis://:default%20s3cret@127.0.0.1:${server.port}`);
    assert.equal(await client.send(['PING']), 'PONG');
  });

  test('with an ACL user and password, percent-decoded, and a database', async () => {
    const client = open(`redis://alice:p%40ss%3Aw%2Frd@127.0.0.1:${server.port}/2`);
    assert.deepEqual(await client.send(['ACL', 'WHOAMI']), Buffer.from('alice'));
    await client.send(['SET', 'k', 'v']);
    assert.equal(await client.send(['DBSIZE']), 1);
  });

  test('a wrong password: queued commands fail with HANDSHAKE_FAILED naming the server\'s answer', async () => {
    const client = open(`redis://alice:wrong@127.0.0.1:${server.port}`);
    await rejectsWith(client.send(['PING']), 'HANDSHAKE_FAILED', /WRONGPASS/);
  });

  test('no password: the server refuses the command itself with NOAUTH', async () => {
    const client = open(server.url);
    await assert.rejects(client.send(['GET', 'k']), (error: unknown) => error instanceof RedisReplyError && error.prefix === 'NOAUTH');
  });
});

describe('Redis client: the server killed and restarted mid-test', { skip: redisMissing }, () => {
  test('commands in flight fail, the client reconnects with backoff, and commands work again', async () => {
    const server = await startRedis();
    const client = createRedisClient(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    const attempts: ReconnectingInfo[] = [];
    client.on('reconnecting', (info: ReconnectingInfo) => attempts.push(info));
    try {
      await client.send(['SET', 'survives', 'no: persistence is off']);
      const blocked = rejectsWith(client.send(['BLPOP', 'never', '0']), 'CONNECTION_LOST', /may or may not have run/);
      await server.kill();
      await blocked;
      await waitFor(client, 'reconnecting');
      await waitFor(client, 'reconnecting');
      const queued = client.send(['INCR', 'after-restart']);
      const ready = waitFor(client, 'ready');
      await server.restart();
      await ready;
      assert.equal(await queued, 1, 'the command queued during the outage ran once, after reconnecting');
      assert.equal(await client.send(['GET', 'survives']), null);
      assert.ok(attempts.length >= 2);
      assert.deepEqual(attempts.slice(0, 2).map((info) => info.attempt), [1, 2]);
      for (const info of attempts) assert.ok(info.delayMs >= 10 && info.delayMs <= 200, `delay ${info.delayMs} within [initial/2, max]`);
      assert.ok(errors.some((error) => error instanceof RedisConnectionError && error.code === 'CONNECTION_LOST'));
      assert.ok(errors.some((error) => error instanceof RedisConnectionError && error.code === 'CONNECT_FAILED'));
    } finally {
      await client.disconnect();
      await server.stop();
    }
  });

  test('while the server is down, the queue is bounded: beyond maxQueuedCommands, QUEUE_FULL at once', async () => {
    const server = await startRedis();
    const client = createRedisClient(server.url, { maxQueuedCommands: 5, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    client.on('error', () => {});
    try {
      await client.send(['PING']);
      await server.kill();
      await waitFor(client, 'reconnecting');
      const queued = Array.from({ length: 5 }, (_, index) => client.send(['SET', `q${index}`, index]));
      const startedAt = Date.now();
      await rejectsWith(client.send(['PING']), 'QUEUE_FULL', /5 commands already wait for Redis \(maxQueuedCommands 5\) and Redis is not connected/);
      assert.ok(Date.now() - startedAt < 100, 'refused at once');
      await server.restart();
      assert.deepEqual(await Promise.all(queued), ['OK', 'OK', 'OK', 'OK', 'OK']);
      assert.equal(await client.send(['GET', 'q4']).then(String), '4');
    } finally {
      await client.disconnect();
      await server.stop();
    }
  });

  test('commands queued while down fail with TIMEOUT, never sent, when the server stays away', async () => {
    const server = await startRedis();
    const client = createRedisClient(server.url, { commandTimeoutMs: 150, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
    client.on('error', () => {});
    try {
      await client.send(['PING']);
      await server.kill();
      await waitFor(client, 'reconnecting');
      await rejectsWith(client.send(['PING']), 'TIMEOUT', /waiting for a connection to Redis \(never sent\)/);
    } finally {
      await client.disconnect();
      await server.stop();
    }
  });

  test('without an error listener the process does not crash: one line on stderr per outage', async () => {
    const server = await startRedis();
    const client = createRedisClient(server.url, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: string) => logged.push(line);
    try {
      await client.send(['PING']);
      await server.kill();
      for (let attempt = 0; attempt < 4; attempt++) await waitFor(client, 'reconnecting');
      assert.equal(logged.length, 1, logged.join('\n'));
      assert.match(logged[0], /^redis redis:\/\/127\.0\.0\.1:\d+: connection to .* lost: .*; reconnecting/);
      const ready = waitFor(client, 'ready');
      await server.restart();
      await ready;
      await server.kill();
      await waitFor(client, 'reconnecting');
      assert.equal(logged.length, 2, 'a new outage logs a new line');
    } finally {
      console.error = original;
      await client.disconnect();
      await server.stop();
    }
  });
});

describe('Redis client: a server that does not speak RESP', () => {
  test('a server that accepts but never answers the handshake: CONNECT_FAILED after connectTimeoutMs, and retries', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = createRedisClient(`redis://:pw@127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { connectTimeoutMs: 150, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    try {
      const [info] = await waitFor<[ReconnectingInfo]>(client, 'reconnecting');
      assert.match(info.error.message, /could not connect to redis:\/\/127\.0\.0\.1:\d+ failed: connecting to .* took longer than 150 ms/);
      assert.equal((info.error as RedisConnectionError).code, 'CONNECT_FAILED');
      await waitFor(client, 'reconnecting');
      assert.ok(sockets.length >= 2, 'it tried again');
    } finally {
      await client.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('garbage or hostile nesting fails the commands in flight, reports a protocol error, and reconnects', async () => {
    const replies = ['%1\r\n+a\r\n+b\r\n', '*1\r\n'.repeat(10_000), '+OK\r\n'];
    let connections = 0;
    const hostile = net.createServer((socket) => {
      const reply = replies[Math.min(connections++, replies.length - 1)];
      socket.on('data', () => socket.write(reply));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const client = createRedisClient(`redis://127.0.0.1:${(hostile.address() as net.AddressInfo).port}`, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    try {
      await rejectsWith(client.send(['PING']), 'CONNECTION_LOST', /RESP3 reply type '%'/);
      await rejectsWith(client.send(['PING']), 'CONNECTION_LOST', /nested deeper than 64/);
      assert.equal(await client.send(['PING']), 'OK');
      assert.equal(errors.length, 2);
    } finally {
      await client.disconnect();
      hostile.close();
    }
  });
});

describe('Redis client over TLS (rediss://)', { skip: redisMissing }, () => {
  test('commands and pub/sub over TLS with the server certificate trusted; an untrusted one fails to connect', async () => {
    const server = await startRedis({ tls: true, password: 'tls pw' });
    const url = `rediss://:tls%20pw@127.0.0.1:${server.port}/1`;
    const client = createRedisClient(url, { tls: { ca: server.ca } });
    const subscriber = createRedisSubscriber(url, { tls: { ca: server.ca } });
    const untrusted = createRedisClient(url, { commandTimeoutMs: 2000 });
    const untrustedErrors: Error[] = [];
    untrusted.on('error', (error) => untrustedErrors.push(error));
    try {
      assert.equal(await client.send(['SET', 'secure', 'yes']), 'OK');
      assert.deepEqual(await client.send(['GET', 'secure']), Buffer.from('yes'));
      await subscriber.subscribe('tls-channel');
      const message = waitFor<[string, Buffer]>(subscriber, 'message');
      await client.send(['PUBLISH', 'tls-channel', 'over tls']);
      assert.equal(String((await message)[1]), 'over tls');
      await waitFor(untrusted, 'reconnecting');
      assert.match(untrustedErrors[0].message, /could not connect to rediss:\/\/127\.0\.0\.1:\d+\/1 failed: .*self.signed/i);
    } finally {
      await Promise.all([client.disconnect(), subscriber.disconnect(), untrusted.disconnect()]);
      await server.stop();
    }
  });
});
