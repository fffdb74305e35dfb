// Interoperability: other WebSocket clients against our echo server — Node's built-in WebSocket
// (undici; behind --experimental-websocket on Node 20) in a child process, and the `ws` package — and
// our own client against our own server over ws:// and over wss:// with a certificate made at test time.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { WebSocket as WsClient } from 'ws';
import { acceptWebSocket, connect, WebSocketServer, type WebSocketConnection } from '../lib/websocket/index.ts';
import { echo, startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { closed, nextMessage } from './helpers/wait.ts';
import { makeTestCertificate, OPENSSL_MISSING } from './helpers/certificate.ts';

let echoServer: EchoServer;

before(async () => {
  echoServer = await startEchoServer();
});
after(async () => {
  await echoServer.close();
});

/** The server-side connection that is about to be accepted, to watch its close event. */
function nextServerConnection(): Promise<WebSocketConnection> {
  return new Promise((resolve) => echoServer.server.once('upgrade', () => setImmediate(() => resolve([...echoServer.websockets.connections].at(-1)!))));
}

describe("Node's built-in WebSocket client", () => {
  const needsFlag = Number(process.versions.node.split('.')[0]) < 22;
  // Runs in a child: each result is printed as one JSON line.
  const script = `
    const url = process.argv[1];
    const print = (value) => console.log(JSON.stringify(value));
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    const expected = [];
    socket.onopen = () => {
      socket.send('héllo from undici');
      socket.send(new Uint8Array([0, 1, 2, 255]));
      socket.send(new Uint8Array(1024 * 1024).fill(7));
    };
    let count = 0;
    socket.onmessage = (event) => {
      count++;
      if (typeof event.data === 'string') print({ kind: 'text', text: event.data });
      else {
        const bytes = new Uint8Array(event.data);
        print({ kind: 'binary', length: bytes.length, head: Array.from(bytes.subarray(0, 4)), sum: bytes.reduce((a, b) => a + b, 0) });
      }
      if (count === 3) socket.close(4000, 'undici done');
    };
    socket.onclose = (event) => { print({ kind: 'close', code: event.code, reason: event.reason, wasClean: event.wasClean }); };
    socket.onerror = (event) => { print({ kind: 'error', message: String(event.message ?? event) }); };
  `;

  test('text, binary and 1 MiB echo; the close code and reason are seen on both sides', async () => {
    const serverSide = nextServerConnection();
    const child = spawn(process.execPath, [...(needsFlag ? ['--experimental-websocket'] : []), '--no-warnings', '-e', script, `ws://127.0.0.1:${echoServer.port}/undici`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killTimer = setTimeout(() => child.kill(), 15_000);
    try {
      const lines: Array<Record<string, unknown>> = [];
      for await (const line of createInterface({ input: child.stdout! })) lines.push(JSON.parse(line));
      const [exitCode] = await once(child, 'exit');
      assert.equal(exitCode, 0);
      assert.deepEqual(lines, [
        { kind: 'text', text: 'héllo from undici' },
        { kind: 'binary', length: 4, head: [0, 1, 2, 255], sum: 258 },
        { kind: 'binary', length: 1024 * 1024, head: [7, 7, 7, 7], sum: 7 * 1024 * 1024 },
        { kind: 'close', code: 4000, reason: '', wasClean: true },
      ]);
      const serverClose = await closed(await serverSide).catch(() => undefined);
      if (serverClose) assert.equal(serverClose.code, 4000);
    } finally {
      clearTimeout(killTimer);
      child.kill();
    }
  });
});

describe('the ws client', () => {
  async function openWs(): Promise<WsClient> {
    const client = new WsClient(`ws://127.0.0.1:${echoServer.port}/ws`);
    await once(client, 'open');
    return client;
  }

  function nextWsMessage(client: WsClient): Promise<{ data: Buffer; isBinary: boolean }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message from the echo server')), 10_000);
      client.once('message', (data, isBinary) => {
        clearTimeout(timer);
        resolve({ data: data as Buffer, isBinary });
      });
    });
  }

  test('text and binary come back as they went', async () => {
    const client = await openWs();
    client.send('text from ws');
    const text = await nextWsMessage(client);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'text from ws');
    client.send(Buffer.from([9, 8, 7]));
    const binary = await nextWsMessage(client);
    assert.equal(binary.isBinary, true);
    assert.deepEqual([...binary.data], [9, 8, 7]);
    client.close();
    await once(client, 'close');
  });

  test('1 MiB comes back intact', async () => {
    const client = await openWs();
    const big = Buffer.alloc(1024 * 1024);
    for (let index = 0; index < big.length; index++) big[index] = (index * 13) & 0xff;
    client.send(big);
    const echoed = await nextWsMessage(client);
    assert.ok(echoed.data.equals(big));
    client.close();
    await once(client, 'close');
  });

  test('a message sent in fragments (fin: false) comes back whole', async () => {
    const client = await openWs();
    client.send('frag', { fin: false });
    client.send('men', { fin: false });
    client.send('ted 😀', { fin: true });
    const echoed = await nextWsMessage(client);
    assert.equal(echoed.data.toString(), 'fragmented 😀');
    client.close();
    await once(client, 'close');
  });

  test('close code and reason both ways', async () => {
    const serverSide = nextServerConnection();
    const client = await openWs();
    const connection = await serverSide;
    const serverClosed = closed(connection);
    client.close(4321, 'ws says bye');
    const [code, reason] = await once(client, 'close');
    assert.equal(code, 4321);
    assert.equal(reason.toString(), '');
    assert.deepEqual(await serverClosed, { code: 4321, reason: 'ws says bye', wasClean: true });

    const secondSide = nextServerConnection();
    const second = await openWs();
    const secondConnection = await secondSide;
    secondConnection.close(4001, 'server says bye');
    const [secondCode, secondReason] = await once(second, 'close');
    assert.equal(secondCode, 4001);
    assert.equal(secondReason.toString(), 'server says bye');
  });
});

describe('our client against our server', () => {
  test('over ws://', async () => {
    const client = await connect(`ws://127.0.0.1:${echoServer.port}/`);
    try {
      client.send('round trip');
      assert.equal((await nextMessage(client)).text, 'round trip');
      client.close(1000, 'done');
      assert.deepEqual(await closed(client), { code: 1000, reason: '', wasClean: true });
    } finally {
      client.terminate();
    }
  });

  test('over wss:// with a self-signed certificate made by openssl', { skip: OPENSSL_MISSING }, async () => {
    const certificate = makeTestCertificate();
    const { cert, key } = certificate;
    const tracker = new WebSocketServer();
    const server = createHttpsServer({ key, cert });
    server.on('upgrade', (request, socket, head) => {
      const connection = acceptWebSocket(request, socket, head);
      if (!connection) return;
      tracker.track(connection);
      echo(connection);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const client = await connect(`wss://localhost:${port}/secure`, { tls: { ca: cert } });
      client.send('over TLS');
      assert.equal((await nextMessage(client)).text, 'over TLS');
      const big = Buffer.alloc(300 * 1024, 3);
      client.send(big);
      assert.ok((await nextMessage(client)).data.equals(big));
      client.close(1000);
      assert.equal((await closed(client)).wasClean, true);

      // Without the CA the certificate is refused: a HandshakeError, not a crash.
      await assert.rejects(connect(`https://localhost:${port}/`), /cannot connect/);
    } finally {
      await tracker.closeAll();
      server.close();
      server.closeAllConnections();
      certificate.remove();
    }
  });
});
