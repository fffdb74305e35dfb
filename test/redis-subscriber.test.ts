// The pub/sub subscriber against a real redis-server: message and pmessage, unsubscribe, subscribe
// while connecting, AUTH on a subscriber, and a server killed and restarted mid-test — the subscriber
// reconnects, subscribes again to everything before 'ready', and messages flow again.

import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRedisClient, createRedisSubscriber, RedisConnectionError, type RedisClient, type RedisSubscriber } from '../lib/redis/index.ts';
import { redisMissing, startRedis, type RedisServer } from './helpers/redis-server.ts';
import { waitFor } from './helpers/wait.ts';

describe('Redis subscriber against a real redis-server', { skip: redisMissing }, () => {
  let server: RedisServer;
  let publisher: RedisClient;
  const subscribers: RedisSubscriber[] = [];
  const open = (url = server.url): RedisSubscriber => {
    const subscriber = createRedisSubscriber(url, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    subscriber.on('error', () => {});
    subscribers.push(subscriber);
    return subscriber;
  };
  before(async () => {
    server = await startRedis({ password: 'pw' });
    server.url = `redis://:pw@127.0.0.1:${server.port}`;
    publisher = createRedisClient(server.url);
    publisher.on('error', () => {});
  });
  after(async () => {
    await Promise.all(subscribers.map((subscriber) => subscriber.disconnect()));
    await publisher?.disconnect();
    await server?.stop();
  });

  test('subscribe: message events carry the channel and the payload as bytes', async () => {
    const subscriber = open();
    await subscriber.subscribe('news', 'weather');
    // Listen first: the message may arrive before the reply to PUBLISH.
    const first = waitFor<[string, Buffer]>(subscriber, 'message');
    assert.equal(await publisher.send(['PUBLISH', 'news', Buffer.from([0, 1, 0xff])]), 1);
    const [channel, payload] = await first;
    assert.equal(channel, 'news');
    assert.deepEqual(payload, Buffer.from([0, 1, 0xff]));
    const next = waitFor<[string, Buffer]>(subscriber, 'message');
    await publisher.send(['PUBLISH', 'weather', 'sunny ☀']);
    assert.deepEqual((await next).map(String), ['weather', 'sunny ☀']);
  });

  test('psubscribe: pmessage events carry the pattern, the channel and the payload', async () => {
    const subscriber = open();
    await subscriber.psubscribe('room:*');
    const received = waitFor<[string, string, Buffer]>(subscriber, 'pmessage');
    await publisher.send(['PUBLISH', 'room:42', 'hello']);
    assert.deepEqual((await received).map(String), ['room:*', 'room:42', 'hello']);
  });

  test('unsubscribe and punsubscribe: no more messages from those channels', async () => {
    const subscriber = open();
    await subscriber.subscribe('a', 'b');
    await subscriber.psubscribe('p:*');
    await subscriber.unsubscribe('a');
    await subscriber.punsubscribe();
    assert.deepEqual([...subscriber.subscribedChannels], ['b']);
    assert.equal(await publisher.send(['PUBLISH', 'a', 'x']), 0);
    assert.equal(await publisher.send(['PUBLISH', 'p:1', 'x']), 0);
    assert.equal(await publisher.send(['PUBLISH', 'b', 'x']), 1);
  });

  test('subscribe called before the connection is ready resolves once subscribed', async () => {
    const subscriber = open();
    assert.equal(subscriber.isReady, false);
    await subscriber.subscribe('early');
    assert.equal(await publisher.send(['PUBLISH', 'early', 'x']), 1);
  });

  test('quit: resolves once closed; later subscribes fail with CLOSED', async () => {
    const subscriber = open();
    await subscriber.subscribe('bye');
    await subscriber.quit();
    assert.equal(await publisher.send(['PUBLISH', 'bye', 'x']), 0);
    await assert.rejects(subscriber.subscribe('again'), (error: unknown) => error instanceof RedisConnectionError && error.code === 'CLOSED');
  });
});

describe('Redis subscriber: the server killed and restarted mid-test', { skip: redisMissing }, () => {
  test('reconnects, resubscribes to channels and patterns before ready, and messages flow again', async () => {
    const server = await startRedis();
    const subscriber = createRedisSubscriber(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const publisher = createRedisClient(server.url, { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    subscriber.on('error', () => {});
    publisher.on('error', () => {});
    try {
      await subscriber.subscribe('chat');
      await subscriber.psubscribe('room:*');
      await server.kill();
      await waitFor(subscriber, 'reconnecting');
      // Changes while down are remembered and applied on reconnect.
      const late = subscriber.subscribe('late');
      const subscriberReady = waitFor(subscriber, 'ready');
      const publisherReady = waitFor(publisher, 'ready');
      await server.restart();
      await Promise.all([subscriberReady, publisherReady, late]);
      // 'ready' came after the resubscribe: publishing now reaches the subscriber at once.
      assert.equal(await publisher.send(['PUBLISH', 'chat', 'one']), 1);
      assert.equal(await publisher.send(['PUBLISH', 'late', 'two']), 1);
      const pmessage = waitFor<[string, string, Buffer]>(subscriber, 'pmessage');
      assert.equal(await publisher.send(['PUBLISH', 'room:7', 'three']), 1);
      assert.deepEqual((await pmessage).map(String), ['room:*', 'room:7', 'three']);
      const channels = await publisher.send(['PUBSUB', 'CHANNELS']) as Buffer[];
      assert.deepEqual(channels.map(String).sort(), ['chat', 'late']);
    } finally {
      await subscriber.disconnect();
      await publisher.disconnect();
      await server.stop();
    }
  });
});

describe('Redis subscriber: quit while resubscribing', () => {
  test('quit() after the reconnect handshake but before the resubscribe is confirmed still sends QUIT and closes', async () => {
    // A stand-in server, since the moment is hard to catch on a real one: the first connection confirms
    // the subscription, then drops; the second never confirms, and answers QUIT.
    let connections = 0;
    let resubscribeSeen: () => void = () => {};
    const resubscribed = new Promise<void>((resolve) => { resubscribeSeen = resolve; });
    const sockets: net.Socket[] = [];
    const standIn = net.createServer((socket) => {
      const connection = ++connections;
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        const text = chunk.toString('latin1');
        if (text.includes('QUIT')) {
          socket.end('+OK\r\n');
        } else if (connection === 1) {
          socket.write('*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n');
          socket.destroy();
        } else {
          resubscribeSeen();
        }
      });
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    const subscriber = createRedisSubscriber(`redis://127.0.0.1:${(standIn.address() as net.AddressInfo).port}`, { reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    subscriber.on('error', () => {});
    try {
      await subscriber.subscribe('x');
      await resubscribed;
      assert.equal(subscriber.isReady, false, 'not ready: the resubscribe is not confirmed');
      await subscriber.quit();
      assert.equal(connections, 2);
    } finally {
      await subscriber.disconnect();
      for (const socket of sockets) socket.destroy();
      standIn.close();
    }
  });
});
