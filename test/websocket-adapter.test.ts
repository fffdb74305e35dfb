// The socket adapter (lib/websocket/connection.ts) on real loopback sockets: write coalescing,
// backpressure and 'drain', the send-buffer cap, the heartbeat, the close timeout, broadcast, and the
// promise that errors are reported, never thrown.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { acceptWebSocket, broadcast, connect, PreparedMessage, WebSocketConnection, WebSocketServer, type AcceptOptions } from '../lib/websocket/index.ts';
import { buildFrame, closeBody, RawWebSocket } from './helpers/raw-websocket.ts';
import { closed, nextMessage, until, waitFor } from './helpers/wait.ts';

interface TestServer {
  port: number;
  /** Resolves with the next server-side connection. */
  nextConnection(): Promise<WebSocketConnection>;
  /** Socket write calls made after the 101 response, per connection. */
  writeCounts: Map<WebSocketConnection, { count: number }>;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const cleanups: Array<() => void> = [];

after(async () => {
  for (const cleanup of cleanups) cleanup();
  await Promise.all(servers.map((server) => server.close()));
});

async function startServer(options: AcceptOptions = {}): Promise<TestServer> {
  const tracker = new WebSocketServer();
  const waiting: Array<(connection: WebSocketConnection) => void> = [];
  const ready: WebSocketConnection[] = [];
  const writeCounts = new Map<WebSocketConnection, { count: number }>();
  const server: Server = createServer((_request, response) => response.end());
  server.on('upgrade', (request, socket: Duplex, head) => {
    const connection = acceptWebSocket(request, socket, head, options);
    if (!connection) return;
    // Count the writes the adapter makes from now on (the 101 went out above).
    const counter = { count: 0 };
    const originalWrite = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      counter.count++;
      return originalWrite(...args);
    }) as typeof socket.write;
    writeCounts.set(connection, counter);
    tracker.track(connection);
    const resolve = waiting.shift();
    if (resolve) resolve(connection);
    else ready.push(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const testServer: TestServer = {
    port: (server.address() as AddressInfo).port,
    writeCounts,
    nextConnection: () => {
      const connection = ready.shift();
      if (connection) return Promise.resolve(connection);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no connection within 5 s')), 5000);
        waiting.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
    async close() {
      server.close();
      for (const connection of tracker.connections) connection.terminate();
      server.closeAllConnections();
    },
  };
  servers.push(testServer);
  return testServer;
}

async function rawPeer(server: TestServer): Promise<{ raw: RawWebSocket; connection: WebSocketConnection }> {
  const connection = server.nextConnection();
  const raw = await RawWebSocket.open(server.port);
  cleanups.push(() => raw.destroy());
  return { raw, connection: await connection };
}

async function clientPeer(server: TestServer, options = {}): Promise<{ client: WebSocketConnection; connection: WebSocketConnection }> {
  const connection = server.nextConnection();
  const client = await connect(`ws://127.0.0.1:${server.port}/`, options);
  cleanups.push(() => client.terminate());
  return { client, connection: await connection };
}

describe('write coalescing', () => {
  test('ten sends in one tick leave in one socket write and arrive in order', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    const counter = server.writeCounts.get(connection)!;
    for (let index = 0; index < 10; index++) assert.equal(connection.send(`message ${index}`), true);
    const frames = await raw.framesUntil(10);
    assert.deepEqual(frames.map((frame) => frame.payload.toString()), Array.from({ length: 10 }, (_, index) => `message ${index}`));
    assert.equal(counter.count, 1, 'one write for the whole tick');
  });

  test('sends in separate ticks are not held back', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    connection.send('first');
    await raw.frame(0);
    connection.send('second');
    assert.equal((await raw.frame(1)).payload.toString(), 'second');
  });
});

describe('backpressure', () => {
  test('send answers false over highWaterMark, and drain follows when the peer reads (small mark)', async () => {
    const server = await startServer({ highWaterMark: 1024 });
    const { raw, connection } = await rawPeer(server);
    assert.equal(connection.send(Buffer.alloc(512)), true, 'under the mark');
    assert.equal(connection.send(Buffer.alloc(2048)), false, 'over the mark');
    assert.ok(connection.bufferedAmount > 1024);
    await waitFor(connection, 'drain');
    assert.ok(connection.bufferedAmount <= 1024);
    await raw.framesUntil(2);
  });

  test('drain also comes when the socket took the bytes without refusing any (mark below the socket\'s own)', async () => {
    // A socket that holds every write until released: its own 16 KiB mark is never reached, so it never emits 'drain'.
    const held: Array<() => void> = [];
    const socket = new Duplex({
      read() {},
      write(_chunk, _encoding, callback) {
        held.push(callback);
      },
    });
    const connection = new WebSocketConnection(socket, 'server', { highWaterMark: 1024 });
    assert.equal(connection.send(Buffer.alloc(4096)), false);
    await until(() => held.length > 0, 5000, 'the batch to reach the socket');
    assert.ok(connection.bufferedAmount > 1024, 'the socket still holds the bytes');
    const drained = waitFor(connection, 'drain');
    while (held.length > 0) held.shift()!();
    await drained;
    assert.equal(connection.bufferedAmount, 0);
    connection.terminate();
  });

  test('with a peer that stops reading, sends turn false; drain comes once it reads again', async () => {
    const server = await startServer({ highWaterMark: 256 * 1024 });
    const { raw, connection } = await rawPeer(server);
    raw.socket.pause();
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    // Keep sending, one message per turn of the loop, until the adapter says stop.
    await new Promise<void>((resolve, reject) => {
      const step = () => {
        sent++;
        if (!connection.send(chunk)) return resolve();
        if (sent > 2000) return reject(new Error('send never answered false'));
        setImmediate(step);
      };
      step();
    });
    const drained = waitFor(connection, 'drain', 10_000);
    raw.socket.resume();
    await drained;
    await raw.framesUntil(sent, 10_000);
  });

  test('a peer that never reads: over maxBufferedBytes the connection is cut, reported as 1008', async () => {
    const server = await startServer({ highWaterMark: 64 * 1024, maxBufferedBytes: 512 * 1024 });
    const { raw, connection } = await rawPeer(server);
    raw.socket.pause();
    const errors: Error[] = [];
    connection.on('error', (error) => errors.push(error));
    const closing = closed(connection, 10_000);
    const chunk = Buffer.alloc(64 * 1024, 2);
    const pump = () => {
      if (connection.readyState !== 1) return;
      connection.send(chunk);
      setImmediate(pump);
    };
    pump();
    const result = await closing;
    assert.equal(result.code, 1008);
    assert.equal(result.wasClean, false);
    assert.ok(errors.some((error) => /buffered/.test(error.message)), 'the error says why');
  });
});

describe('heartbeat', () => {
  test('a peer that does not answer pings is terminated', async () => {
    const server = await startServer({ heartbeat: { intervalMs: 40, timeoutMs: 80 } });
    const { raw, connection } = await rawPeer(server);
    const errors: Error[] = [];
    connection.on('error', (error) => errors.push(error));
    const result = await closed(connection);
    assert.equal(result.code, 1006);
    assert.ok(raw.frames.some((frame) => frame.opcode === 0x9), 'pings were sent');
    assert.ok(errors.some((error) => /pong/.test(error.message)));
    await raw.end();
  });

  test('a peer that answers pings is kept', async () => {
    // The pong timeout (1 s) is long enough that a busy machine's pause between a pong arriving and
    // being read is not mistaken for silence; waiting for 40 pongs (≥ 1.2 s) still outlasts it, so a
    // pong that did not count would get the peer cut during the test.
    const server = await startServer({ heartbeat: { intervalMs: 30, timeoutMs: 1000 } });
    const { client, connection } = await clientPeer(server);
    let pongs = 0;
    connection.on('pong', () => pongs++);
    await until(() => pongs >= 40, 10_000, 'forty pongs');
    assert.equal(connection.readyState, 1);
    client.send('still here');
    assert.equal((await nextMessage(connection)).text, 'still here');
    client.close();
    await closed(connection);
  });

  test('no ping is ever sent unless a heartbeat is asked for', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    connection.startHeartbeat({ intervalMs: 20 });
    await raw.frame(0);
    connection.stopHeartbeat();
    assert.equal(raw.frames[0].opcode, 0x9);
  });
});

describe('closing', () => {
  test('a peer that never answers our close is cut after closeTimeoutMs', async () => {
    const server = await startServer({ closeTimeoutMs: 100 });
    const { raw, connection } = await rawPeer(server);
    const errors: Error[] = [];
    connection.on('error', (error) => errors.push(error));
    const started = Date.now();
    connection.close(1000, 'bye');
    assert.equal(connection.readyState, 2);
    const result = await closed(connection);
    assert.ok(Date.now() - started >= 90, 'not before the timeout');
    assert.equal(result.wasClean, false);
    assert.equal(result.code, 1006);
    assert.ok(errors.some((error) => /close handshake/.test(error.message)));
    assert.equal(await raw.closeFrame(), 1000);
    await raw.end();
  });

  test('a clean close from our side: peer answers, both report the code, readyState goes 1 → 2 → 3', async () => {
    const server = await startServer();
    const { client, connection } = await clientPeer(server);
    assert.equal(connection.readyState, 1);
    const clientClosed = closed(client);
    const serverClosed = closed(connection);
    connection.close(4100, 'server done');
    assert.equal(connection.readyState, 2);
    assert.equal(connection.send('too late'), false);
    assert.deepEqual(await clientClosed, { code: 4100, reason: 'server done', wasClean: true });
    assert.deepEqual(await serverClosed, { code: 4100, reason: '', wasClean: true });
    assert.equal(connection.readyState, 3);
  });

  test('terminate: both sides see 1006', async () => {
    const server = await startServer();
    const { client, connection } = await clientPeer(server);
    const clientClosed = closed(client);
    connection.terminate();
    assert.equal((await closed(connection)).code, 1006);
    assert.equal((await clientClosed).code, 1006);
  });

  test('an abrupt TCP close is reported once, and nothing is reported after the close event', async () => {
    const server = await startServer({ closeTimeoutMs: 30 });
    const { raw, connection } = await rawPeer(server);
    const events: string[] = [];
    connection.on('error', (error) => events.push(`error: ${error.message}`));
    connection.on('close', (code) => events.push(`close ${code}`));
    const closing = closed(connection);
    raw.destroy();
    await closing;
    // An absence can only be observed over a window: several close timeouts long.
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual(events, ['close 1006']);
  });

  test('WebSocketServer.closeAll sends 1001 to every client and waits for them', async () => {
    const server = await startServer();
    const tracker = new WebSocketServer();
    const peers = await Promise.all([clientPeer(server), clientPeer(server), clientPeer(server)]);
    for (const { connection } of peers) tracker.track(connection);
    const clientCloses = peers.map(({ client }) => closed(client));
    await tracker.closeAll();
    assert.equal(tracker.connections.size, 0);
    for (const result of await Promise.all(clientCloses)) assert.equal(result.code, 1001);
  });
});

describe('errors are reported, never thrown', () => {
  test('a protocol violation on a connection with no error listener closes it with 1002 and does not crash', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    assert.equal(connection.listenerCount('error'), 0);
    const closing = closed(connection);
    raw.sendFrame({ opcode: 0x1, payload: 'unmasked', mask: false });
    assert.equal((await closing).code, 1002);
    assert.equal(await raw.closeFrame(), 1002);
  });

  test('a reset socket with no error listener gives 1006, no exception', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    const closing = closed(connection);
    raw.socket.resetAndDestroy();
    assert.equal((await closing).code, 1006);
  });

  test('with an error listener, the protocol error carries its code and close code', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    const error = waitFor<[Error & { code?: string; closeCode?: number }]>(connection, 'error');
    raw.sendFrame({ opcode: 0x1, payload: Buffer.from([0xff]) });
    const [reported] = await error;
    assert.equal(reported.code, 'INVALID_UTF8');
    assert.equal(reported.closeCode, 1007);
  });

  test('invalid arguments are the caller\'s errors: close codes and oversized pings throw RangeError', async () => {
    const server = await startServer();
    const { connection } = await rawPeer(server);
    assert.throws(() => connection.close(1005, 'x'), RangeError);
    assert.throws(() => connection.close(999), RangeError);
    assert.throws(() => connection.ping(Buffer.alloc(126)), RangeError);
    assert.equal(connection.readyState, 1);
  });

  test('a close arriving after the handshake, in the same chunk as a message, is handled in order', async () => {
    const server = await startServer();
    const { raw, connection } = await rawPeer(server);
    const messages: string[] = [];
    connection.on('message', (data) => messages.push(data.toString()));
    const closing = closed(connection);
    raw.write(Buffer.concat([buildFrame({ opcode: 0x1, payload: 'last words' }), buildFrame({ opcode: 0x8, payload: closeBody(1000) })]));
    assert.deepEqual(await closing, { code: 1000, reason: '', wasClean: true });
    assert.deepEqual(messages, ['last words']);
  });
});

describe('broadcast', () => {
  test('one message framed once reaches every open connection; closing ones are skipped', async () => {
    const server = await startServer();
    const peers = await Promise.all([clientPeer(server), clientPeer(server), clientPeer(server)]);
    const serverSides = peers.map((peer) => peer.connection);
    serverSides[2].close(1000);
    const received = peers.slice(0, 2).map(({ client }) => nextMessage(client));
    assert.equal(broadcast(serverSides, 'to all'), 2);
    for (const message of await Promise.all(received)) assert.equal(message.text, 'to all');
    const prepared = new PreparedMessage(Buffer.from([1, 2, 3]));
    const binary = peers.slice(0, 2).map(({ client }) => nextMessage(client));
    assert.equal(broadcast(serverSides, prepared), 2);
    for (const message of await Promise.all(binary)) {
      assert.equal(message.isBinary, true);
      assert.deepEqual([...message.data], [1, 2, 3]);
    }
  });

  test('a client sending a prepared message masks it like any other', async () => {
    const server = await startServer();
    const { client, connection } = await clientPeer(server);
    assert.equal(client.sendPrepared(new PreparedMessage('from a client')), true);
    assert.equal((await nextMessage(connection)).text, 'from a client');
  });
});
