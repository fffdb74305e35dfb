// Day 19 end to end over real sockets on loopback, in the order the official validator plays it:
// the ping game, reset and views, rooms, the 128/129 boundary, ignored input, room validation,
// percent-decoded names and reconnects. "No reply" is proven by a marker sent afterwards that does
// get one: the first thing to arrive must be the marker's answer.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { Router } from '../lib/http/router.ts';
import { connect, HandshakeError, type WebSocketConnection } from '../lib/websocket/index.ts';
import { registerDay19, type Day19 } from '../servers/cch19/routes.ts';
import { closed, DEFAULT_WAIT_MS } from './helpers/wait.ts';

/** Records every message of a connection from the moment it opens, so none is lost between waits. */
class Inbox {
  readonly received: string[] = [];
  readonly binary: boolean[] = [];
  #taken = 0;
  #waiter: (() => void) | undefined;

  constructor(readonly connection: WebSocketConnection) {
    connection.on('message', (data, isBinary) => {
      this.received.push(data.toString('utf8'));
      this.binary.push(isBinary);
      this.#waiter?.();
    });
    connection.on('close', () => this.#waiter?.());
  }

  /** The next message not yet taken; rejects on timeout or when the connection closes first. */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#taken >= this.received.length) {
      if (this.connection.readyState !== 1) throw new Error('connection closed while waiting for a message');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for a message`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
    return this.received[this.#taken++]!;
  }

  /** Messages received but not taken yet. */
  get unread(): string[] {
    return this.received.slice(this.#taken);
  }
}

function get(port: number, method: string, path: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, timeout: DEFAULT_WAIT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const tweet = (message: string): string => JSON.stringify({ message });
const expected = (user: string, message: string): string => JSON.stringify({ user, message });

describe('day 19 over real sockets', () => {
  let server: HttpServer;
  let day19: Day19;
  let port: number;
  const open: WebSocketConnection[] = [];

  const join = async (path: string): Promise<Inbox> => {
    const connection = await connect(`ws://127.0.0.1:${port}${path}`);
    open.push(connection);
    return new Inbox(connection);
  };
  const views = async (): Promise<number> => {
    const response = await get(port, 'GET', '/19/views');
    assert.equal(response.status, 200);
    assert.match(response.body, /^\d+$/);
    return Number(response.body);
  };

  before(async () => {
    const router = new Router();
    day19 = registerDay19(router);
    server = createHttpServer({ router });
    port = (await server.listen(0, '127.0.0.1')).port;
  });

  after(async () => {
    for (const connection of open) connection.terminate();
    await day19.close();
    server.terminate();
    await server.close();
  });

  test('ping game: silence before serve and for anything else, pong after serve, socket stays open', async () => {
    const player = await join('/19/ws/ping');
    player.connection.send('ping');
    player.connection.send('hello');
    player.connection.send(Buffer.from('serve')); // binary: not a serve
    player.connection.send('serve');
    player.connection.send('ping');
    assert.equal(await player.next(), 'pong');
    assert.deepEqual(player.binary, [false]);

    player.connection.send('pong');
    player.connection.send('PING');
    player.connection.send(Buffer.from('ping'));
    player.connection.send('serve');
    player.connection.send('ping');
    assert.equal(await player.next(), 'pong');
    assert.deepEqual(player.unread, []);
    assert.equal(player.received.length, 2);
    assert.equal(player.connection.readyState, 1);
  });

  test('each ping socket plays its own game', async () => {
    const [serving, waiting] = [await join('/19/ws/ping'), await join('/19/ws/ping')];
    serving.connection.send('serve');
    waiting.connection.send('ping');
    serving.connection.send('ping');
    assert.equal(await serving.next(), 'pong');
    waiting.connection.send('serve');
    waiting.connection.send('ping');
    assert.equal(await waiting.next(), 'pong');
    assert.equal(waiting.received.length, 1);
  });

  test('reset answers 200 and zeroes the counter; views is a bare decimal as text/plain', async () => {
    const reset = await get(port, 'POST', '/19/reset');
    assert.equal(reset.status, 200);
    const response = await get(port, 'GET', '/19/views');
    assert.equal(response.status, 200);
    assert.equal(response.body, '0');
    assert.match(String(response.headers['content-type']), /^text\/plain/);
  });

  test('two rooms interleaved: each tweet reaches its room only, sender included, and views count copies', async () => {
    await get(port, 'POST', '/19/reset');
    const alice = await join('/19/ws/room/1/user/alice');
    const bob = await join('/19/ws/room/1/user/bob');
    const carol = await join('/19/ws/room/2/user/carol');
    alice.connection.send(tweet('hello room one'));
    carol.connection.send(tweet('hello room two'));
    bob.connection.send(tweet('hi alice'));
    for (const member of [alice, bob]) {
      assert.equal(await member.next(), expected('alice', 'hello room one'));
      assert.equal(await member.next(), expected('bob', 'hi alice'));
    }
    assert.equal(await carol.next(), expected('carol', 'hello room two'));
    assert.equal(await views(), 5);
    // Room 2 heard nothing from room 1: its next message is its own marker.
    carol.connection.send(tweet('marker'));
    assert.equal(await carol.next(), expected('carol', 'marker'));
    assert.equal(await views(), 6);
  });

  test('the 128/129 boundary counts code points: 128 emoji pass, 129 are ignored, the socket stays open', async () => {
    await get(port, 'POST', '/19/reset');
    const elf = await join('/19/ws/room/10/user/elf');
    elf.connection.send(tweet('🎄'.repeat(129)));
    elf.connection.send(tweet('a'.repeat(129)));
    elf.connection.send(tweet('🎄'.repeat(128)));
    elf.connection.send(tweet('a'.repeat(128)));
    assert.equal(await elf.next(), expected('elf', '🎄'.repeat(128)));
    assert.equal(await elf.next(), expected('elf', 'a'.repeat(128)));
    assert.equal(await views(), 2);
  });

  test('bad JSON, wrong shapes and binary frames are ignored silently and the socket stays open', async () => {
    await get(port, 'POST', '/19/reset');
    const elf = await join('/19/ws/room/11/user/elf');
    for (const junk of ['not json', '{"message":"hi"} trailing', '{"message":7}', '{}', '[]', 'null', '{"text":"hi"}', '']) elf.connection.send(junk);
    elf.connection.send(Buffer.from(tweet('binary tweet')));
    elf.connection.send(Buffer.from([0xff, 0x00, 0x7b]));
    elf.connection.send(tweet('marker'));
    assert.equal(await elf.next(), expected('elf', 'marker'));
    assert.deepEqual(elf.unread, []);
    assert.equal(elf.connection.readyState, 1);
    assert.equal(await views(), 1);
  });

  test('a room number that is not a non-negative integer is refused with 404 before the upgrade', async () => {
    for (const room of ['abc', '-1', '1.5', '1e3', '', '%20']) {
      await assert.rejects(connect(`ws://127.0.0.1:${port}/19/ws/room/${room}/user/elf`), (error: unknown) => {
        assert.ok(error instanceof HandshakeError, String(error));
        assert.equal(error.statusCode, 404, room);
        return true;
      });
    }
    const zero = await join('/19/ws/room/0/user/elf');
    zero.connection.send(tweet('room zero works'));
    assert.equal(await zero.next(), expected('elf', 'room zero works'));
  });

  test('the user name comes from the URL, percent-decoded', async () => {
    const name = 'Ölf 🎅 "the/great"';
    const elf = await join(`/19/ws/room/12/user/${encodeURIComponent(name)}`);
    elf.connection.send(tweet('ho ho ho'));
    assert.equal(await elf.next(), expected(name, 'ho ho ho'));
    assert.deepEqual(Object.keys(JSON.parse(elf.received[0]!)), ['user', 'message']);
  });

  test('a closed socket leaves its room at once; reconnecting joins again, with no history', async () => {
    await get(port, 'POST', '/19/reset');
    const stays = await join('/19/ws/room/13/user/stays');
    const leaves = await join('/19/ws/room/13/user/leaves');
    leaves.connection.close(1000);
    await closed(leaves.connection);
    stays.connection.send(tweet('after the leave'));
    assert.equal(await stays.next(), expected('stays', 'after the leave'));
    assert.equal(await views(), 1);

    const back = await join('/19/ws/room/13/user/leaves');
    stays.connection.send(tweet('welcome back'));
    assert.equal(await back.next(), expected('stays', 'welcome back'));
    assert.equal(await stays.next(), expected('stays', 'welcome back'));
    assert.deepEqual(back.unread, []);
    assert.equal(await views(), 3);
  });

  test('a socket cut without a close handshake also leaves its room', async () => {
    await get(port, 'POST', '/19/reset');
    const stays = await join('/19/ws/room/14/user/stays');
    const cut = await join('/19/ws/room/14/user/cut');
    cut.connection.terminate();
    await closed(cut.connection);
    // The server learns of the cut asynchronously: wait until the room has one member left.
    const deadline = Date.now() + DEFAULT_WAIT_MS;
    while (day19.birdApp.memberCount('14') !== 1) {
      assert.ok(Date.now() < deadline, 'the server never noticed the cut socket');
      await new Promise((resolve) => setImmediate(resolve));
    }
    stays.connection.send(tweet('still here'));
    assert.equal(await stays.next(), expected('stays', 'still here'));
    assert.equal(await views(), 1);
  });

  test('plain HTTP on WebSocket routes and unknown paths get clear answers', async () => {
    assert.equal((await get(port, 'GET', '/19/ws/ping')).status, 426);
    assert.equal((await get(port, 'GET', '/19/ws/room/1/user/elf')).status, 426);
    assert.equal((await get(port, 'GET', '/19/reset')).status, 405);
    assert.equal((await get(port, 'POST', '/19/views')).status, 405);
    assert.equal((await get(port, 'GET', '/19/nothing-here')).status, 404);
  });
});

describe('day 19 with a small send-buffer cap', () => {
  test('a member that never reads is cut once its buffer passes the cap, leaves the room, and the others go on', async () => {
    const { WebSocket } = await import('ws');
    const router = new Router();
    const day19 = registerDay19(router, { maxBufferedBytes: 256 * 1024 });
    const server = createHttpServer({ router });
    const port = (await server.listen(0, '127.0.0.1')).port;
    const stalled = new WebSocket(`ws://127.0.0.1:${port}/19/ws/room/1/user/stalled`);
    let writer: WebSocketConnection | undefined;
    try {
      await new Promise((resolve, reject) => {
        stalled.once('open', resolve);
        stalled.once('error', reject);
      });
      stalled.pause();
      writer = await connect(`ws://127.0.0.1:${port}/19/ws/room/1/user/writer`);
      const inbox = new Inbox(writer);
      const big = tweet('🎄'.repeat(128));
      // Keep tweeting (each one echoed to the writer, which reads) until the stalled member is gone.
      const deadline = Date.now() + 20_000;
      let sent = 0;
      while (day19.birdApp.memberCount('1') === 2) {
        assert.ok(Date.now() < deadline, `the stalled member was never cut (${sent} tweets sent)`);
        for (let index = 0; index < 100; index++) writer.send(big);
        sent += 100;
        while (inbox.received.length < sent) await inbox.next();
      }
      assert.equal(writer.readyState, 1);
      const before = day19.birdApp.views;
      writer.send(tweet('still going'));
      while ((await inbox.next()) !== expected('writer', 'still going'));
      assert.equal(day19.birdApp.views, before + 1);
    } finally {
      stalled.terminate();
      writer?.terminate();
      await day19.close();
      server.terminate();
      await server.close();
    }
  });
});
