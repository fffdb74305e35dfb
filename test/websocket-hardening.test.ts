// Hardening of the WebSocket library and the router's WebSocket side (issue 13): memory that follows
// the bytes a peer sent, per-server caps (connections, idle time), header injection in the client,
// refused handshakes reported with status and body, allowed origins, and Upgrade on plain routes.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { acceptWebSocket, connect, type AcceptOptions, type ConnectOptions, type WebSocketConnection } from '../lib/websocket/index.ts';
import { buildFrame, RawWebSocket } from './helpers/raw-websocket.ts';
import { waitFor } from './helpers/wait.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A node:http server whose upgrades go to acceptWebSocket; `accepted` resolves with each connection and its socket. */
async function upgradeServer(options: AcceptOptions = {}): Promise<{ port: number; accepted: Array<Promise<{ connection: WebSocketConnection; socket: Duplex }>> }> {
  const resolvers: Array<(value: { connection: WebSocketConnection; socket: Duplex }) => void> = [];
  const accepted: Array<Promise<{ connection: WebSocketConnection; socket: Duplex }>> = [];
  const server: Server = createServer((_request, response) => response.end());
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const connection = acceptWebSocket(request, socket, head, options);
    if (connection) resolvers.shift()?.({ connection, socket });
  });
  for (let index = 0; index < 64; index++) accepted.push(new Promise((resolve) => resolvers.push(resolve)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { port: (server.address() as AddressInfo).port, accepted };
}

describe('memory follows the bytes received, not the lengths claimed', () => {
  test('frame headers claiming 16 MiB with one byte of payload allocate almost nothing', async () => {
    const peers = 8;
    const { port, accepted } = await upgradeServer();
    const clients: RawWebSocket[] = [];
    const sockets: Duplex[] = [];
    cleanups.push(() => clients.forEach((client) => client.destroy()));
    for (let index = 0; index < peers; index++) {
      clients.push(await RawWebSocket.open(port));
      sockets.push((await accepted[index]!).socket);
    }
    // 2 + 8 (64-bit length) + 4 (mask) header bytes, then 1 byte of the 16 MiB announced.
    const claimed = 16 * 1024 * 1024;
    const header = buildFrame({ opcode: 0x2, payload: Buffer.alloc(0) });
    const frame = Buffer.alloc(15);
    frame[0] = 0x82;
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(claimed), 2);
    header.copy(frame, 10, 2, 6); // any mask key will do
    const before = process.memoryUsage().arrayBuffers;
    // The server's own listener runs before ours, so once ours sees the bytes the core has parsed them.
    const parsed = sockets.map((socket) => waitFor(socket, 'data'));
    for (const client of clients) client.write(frame);
    await Promise.all(parsed);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 4 * 1024 * 1024, `${peers} connections holding 15 bytes each grew ArrayBuffer memory by ${grown} bytes`);
  });
});

/** A TCP server that records every byte each connection sends it and answers nothing. */
async function recordingServer(): Promise<{ port: number; received: () => string; connections: () => number }> {
  let bytes = '';
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    socket.on('data', (chunk: Buffer) => { bytes += chunk.toString('latin1'); });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, received: () => bytes, connections: () => count };
}

describe('the client refuses header injection before sending anything', () => {
  const cases: Array<[string, ConnectOptions]> = [
    ['CR LF in a header value', { headers: { 'X-Test': 'a\r\nX-Injected: yes' } }],
    ['a lone LF in a header value', { headers: { 'X-Test': 'a\nX-Injected: yes' } }],
    ['NUL in a header value', { headers: { 'X-Test': 'a\0b' } }],
    ['a header name that is not a token', { headers: { 'X-Injected: yes\r\nX-Test': 'a' } }],
    ['a header name with a space', { headers: { 'X Test': 'a' } }],
    ['CR LF in a subprotocol', { protocols: ['chat\r\nX-Also: injected'] }],
    ['a subprotocol with a comma', { protocols: ['chat, superchat'] }],
    ['an empty subprotocol', { protocols: [''] }],
    ['CR LF in the origin', { origin: 'http://a.example\r\nX-Injected: yes' }],
  ];
  for (const [label, options] of cases) {
    test(label, async () => {
      const server = await recordingServer();
      await assert.rejects(connect(`ws://127.0.0.1:${server.port}/`, { ...options, handshakeTimeoutMs: 2000 }), TypeError);
      // Prove the wire is clean: a valid connect afterwards is the first connection the server sees.
      const valid = connect(`ws://127.0.0.1:${server.port}/`, { headers: { 'X-Test': 'fine' }, protocols: ['chat'], handshakeTimeoutMs: 300 });
      await assert.rejects(valid, /timed out/);
      assert.equal(server.connections(), 1, 'the refused connect opened no connection');
      assert.ok(!server.received().includes('Injected') && !server.received().includes('injected'), server.received());
      assert.ok(server.received().includes('X-Test: fine\r\n'));
    });
  }
});
