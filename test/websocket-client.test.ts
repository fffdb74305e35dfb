// The client side (RFC 6455 §4.1, §5.1): our `connect` against the `ws` package's server, and against
// hand-written hostile servers that break the handshake or the framing rules in one precise way.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { connect, HandshakeError, type WebSocketConnection } from '../lib/websocket/index.ts';
import { buildFrame } from './helpers/raw-websocket.ts';
import { closed, nextMessage, waitFor } from './helpers/wait.ts';

let wsServer: WsServer;
let wsPort: number;
const serverSide: WsSocket[] = [];
const requestedPaths: string[] = [];
const clients = new Set<WebSocketConnection>();

before(async () => {
  wsServer = new WsServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) });
  wsServer.on('connection', (socket, request) => {
    serverSide.push(socket);
    requestedPaths.push(request.url ?? '');
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('close-me ')) {
        const [, code, reason] = text.split(' ');
        socket.close(Number(code), reason);
        return;
      }
      socket.send(data, { binary: isBinary });
    });
  });
  await once(wsServer, 'listening');
  wsPort = (wsServer.address() as { port: number }).port;
});

after(async () => {
  for (const client of clients) client.terminate();
  for (const socket of wsServer.clients) socket.terminate();
  await new Promise((resolve) => wsServer.close(resolve));
});

async function open(path = '/', options = {}): Promise<WebSocketConnection> {
  const client = await connect(`ws://127.0.0.1:${wsPort}${path}`, options);
  clients.add(client);
  return client;
}

/**
 * A TCP server answering the opening handshake however `answer` decides — the way to build a server
 * that breaks exactly one rule. `answer` gets the client's key and the socket.
 */
async function hostileServer(answer: (key: string, socket: Socket) => void): Promise<{ port: number; server: Server; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let request = '';
    socket.on('data', (chunk) => {
      if (request.includes('\r\n\r\n')) return;
      request += chunk.toString('latin1');
      if (!request.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? '';
      answer(key, socket);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    server,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

function acceptFor(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

function switchingProtocols(key: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${extra}\r\n`;
}

async function handshakeFailure(port: number, options = {}): Promise<HandshakeError> {
  try {
    const client = await connect(`ws://127.0.0.1:${port}/`, options);
    client.terminate();
  } catch (error) {
    assert.ok(error instanceof HandshakeError, `expected a HandshakeError, got ${String(error)}`);
    return error;
  }
  assert.fail('the handshake succeeded');
}

describe('our client against the ws server', () => {
  test('text comes back as text', async () => {
    const client = await open();
    client.send('hello ws');
    const message = await nextMessage(client);
    assert.equal(message.text, 'hello ws');
    assert.equal(message.isBinary, false);
    client.close();
    await closed(client);
  });

  test('binary comes back as binary, byte for byte', async () => {
    const client = await open();
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    client.send(bytes);
    const message = await nextMessage(client);
    assert.equal(message.isBinary, true);
    assert.ok(message.data.equals(bytes));
    client.close();
    await closed(client);
  });

  test('a 5 MiB message round-trips', async () => {
    const client = await open();
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let index = 0; index < big.length; index += 4096) big[index] = index & 0xff;
    client.send(big);
    const message = await nextMessage(client, 15_000);
    assert.ok(message.data.equals(big));
    client.close();
    await closed(client);
  });

  test('our close code and reason reach the server; the close is clean', async () => {
    const client = await open();
    client.send('ping-for-ordering');
    await nextMessage(client);
    const server = serverSide.at(-1)!;
    const serverClose = once(server, 'close');
    const clientClose = closed(client);
    client.close(4001, 'client says bye');
    const [code, reason] = await serverClose;
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'client says bye');
    const result = await clientClose;
    assert.equal(result.code, 4001, 'the code the server echoed');
    assert.equal(result.wasClean, true);
    assert.equal(client.readyState, 3);
  });

  test("the server's close code and reason reach us", async () => {
    const client = await open();
    client.send('close-me 4002 server-reason');
    assert.deepEqual(await closed(client), { code: 4002, reason: 'server-reason', wasClean: true });
  });

  test('a subprotocol we offer and the server picks is reported', async () => {
    const client = await open('/', { protocols: ['other', 'chat'] });
    assert.equal(client.protocol, 'chat');
    client.close();
    await closed(client);
  });

  test('http:// maps to ws://, with the path and query sent as they are', async () => {
    const client = await connect(`http://127.0.0.1:${wsPort}/some/path?x=1`);
    clients.add(client);
    assert.equal(requestedPaths.at(-1), '/some/path?x=1');
    client.send('via http');
    assert.equal((await nextMessage(client)).text, 'via http');
    client.close();
    await closed(client);
  });

  test('a ping from the server is answered with a pong', async () => {
    const client = await open();
    client.send('sync');
    await nextMessage(client);
    const server = serverSide.at(-1)!;
    const pong = once(server, 'pong');
    server.ping('are you alive');
    const [payload] = await pong;
    assert.equal(payload.toString(), 'are you alive');
    client.close();
    await closed(client);
  });
});

describe('hostile servers', () => {
  test('a masked frame from the server → we fail the connection with 1002', async () => {
    const hostile = await hostileServer((key, socket) => {
      socket.write(switchingProtocols(key));
      socket.write(buildFrame({ opcode: 0x1, payload: 'masked!', mask: true }));
    });
    try {
      const client = await connect(`ws://127.0.0.1:${hostile.port}/`);
      const result = await closed(client);
      assert.equal(result.code, 1002);
      assert.equal(result.wasClean, false);
    } finally {
      hostile.close();
    }
  });

  test('frames sent in the same TCP chunk as the 101 are delivered', async () => {
    const hostile = await hostileServer((key, socket) => {
      socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), buildFrame({ opcode: 0x1, payload: 'eager', mask: false })]));
    });
    try {
      const client = await connect(`ws://127.0.0.1:${hostile.port}/`);
      clients.add(client);
      assert.equal((await nextMessage(client)).text, 'eager');
      client.terminate();
    } finally {
      hostile.close();
    }
  });

  test('a wrong Sec-WebSocket-Accept → HandshakeError', async () => {
    const hostile = await hostileServer((_key, socket) => socket.write(switchingProtocols('not-the-key')));
    try {
      const error = await handshakeFailure(hostile.port);
      assert.match(error.message, /Sec-WebSocket-Accept/);
      assert.equal(error.statusCode, 101);
    } finally {
      hostile.close();
    }
  });

  test('a subprotocol we did not offer → HandshakeError', async () => {
    const hostile = await hostileServer((key, socket) => socket.write(switchingProtocols(key, 'Sec-WebSocket-Protocol: sneaky\r\n')));
    try {
      const error = await handshakeFailure(hostile.port, { protocols: ['chat'] });
      assert.match(error.message, /sneaky/);
    } finally {
      hostile.close();
    }
  });

  test('an extension we did not offer → HandshakeError', async () => {
    const hostile = await hostileServer((key, socket) => socket.write(switchingProtocols(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n')));
    try {
      const error = await handshakeFailure(hostile.port);
      assert.match(error.message, /extension/);
    } finally {
      hostile.close();
    }
  });

  test('a 404 answer → HandshakeError with statusCode 404', async () => {
    const hostile = await hostileServer((_key, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found'));
    try {
      const error = await handshakeFailure(hostile.port);
      assert.equal(error.statusCode, 404);
      assert.match(error.message, /404/);
    } finally {
      hostile.close();
    }
  });

  test('garbage instead of HTTP → HandshakeError', async () => {
    const hostile = await hostileServer((_key, socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    try {
      const error = await handshakeFailure(hostile.port);
      assert.match(error.message, /malformed/);
    } finally {
      hostile.close();
    }
  });

  test('a server that never answers → HandshakeError after handshakeTimeoutMs', async () => {
    const hostile = await hostileServer(() => {});
    try {
      const started = Date.now();
      const error = await handshakeFailure(hostile.port, { handshakeTimeoutMs: 200 });
      assert.match(error.message, /timed out/);
      assert.ok(Date.now() - started < 4000);
    } finally {
      hostile.close();
    }
  });

  test('a server that hangs up during the handshake → HandshakeError', async () => {
    const hostile = await hostileServer((_key, socket) => socket.destroy());
    try {
      const error = await handshakeFailure(hostile.port);
      assert.match(error.message, /closed during the opening handshake/);
    } finally {
      hostile.close();
    }
  });

  test('nothing listening → HandshakeError naming the address', async () => {
    const hostile = await hostileServer(() => {});
    const port = hostile.port;
    hostile.close();
    await waitFor(hostile.server, 'close').catch(() => {});
    const error = await handshakeFailure(port);
    assert.match(error.message, /cannot connect/);
  });

  test('an unsupported scheme or a malformed URL is rejected, not thrown', async () => {
    await assert.rejects(connect('ftp://127.0.0.1/'), HandshakeError);
    await assert.rejects(connect('not a url'), HandshakeError);
  });
});
