// Application code runs outside the parser (issue 13, item 1): an exception thrown by a listener is the
// application's, never a framing error. The connection is closed with 1011 and the fixed reason
// "internal error" (never the exception's text), the exception is reported ('error' event, or one
// console.error line), other connections keep working and the process survives.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { acceptWebSocket, connect, WebSocketError, type WebSocketConnection } from '../lib/websocket/index.ts';
import { truncateCloseReason, MAX_CLOSE_REASON_BYTES } from '../lib/websocket/close-codes.ts';
import { closed, nextMessage } from './helpers/wait.ts';

interface ThrowingServer {
  url: string;
  /** Server-side connections, in the order they were accepted. */
  accepted: WebSocketConnection[];
  close(): Promise<void>;
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
});

/** An echo server whose 'message' listener throws for any message starting with "unknown". */
async function startThrowingServer(setup: (connection: WebSocketConnection) => void = () => {}): Promise<ThrowingServer> {
  const accepted: WebSocketConnection[] = [];
  const server = createServer();
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptWebSocket(request, socket, head);
    if (!connection) return;
    accepted.push(connection);
    setup(connection);
    connection.on('message', (data, isBinary) => {
      if (data.toString().startsWith('unknown')) throw new Error('unknown: ' + data.toString());
      connection.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    accepted,
    async close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Run `body` with console.error captured; returns each call's arguments joined as one line. */
async function consoleErrorLines(body: () => Promise<void>): Promise<string[]> {
  const logged: string[] = [];
  const original = console.error;
  console.error = (...values: unknown[]) => logged.push(values.map(String).join(' '));
  try {
    await body();
  } finally {
    console.error = original;
  }
  return logged;
}

describe('an exception thrown by a listener', () => {
  test('a long non-ASCII exception: the process survives, the client gets 1011 "internal error", another connection keeps working', async () => {
    const errors: Error[] = [];
    const server = await startThrowingServer((connection) => connection.on('error', (error) => errors.push(error)));
    const bystander = await connect(server.url);
    const victim = await connect(server.url);
    const victimClosed = closed(victim);
    victim.send('unknown' + 'é'.repeat(60));
    const result = await victimClosed;
    assert.equal(result.code, 1011);
    assert.equal(result.reason, 'internal error', 'a fixed reason, never the exception text');

    bystander.send('still here');
    assert.equal((await nextMessage(bystander)).text, 'still here');

    assert.equal(errors.length, 1, 'reported once, on the connection');
    const reported = errors[0] as WebSocketError;
    assert.equal(reported.code, 'APPLICATION_ERROR');
    assert.equal(reported.closeCode, 1011);
    assert.match(String((reported.cause as Error).message), /^unknown: unknowné/, 'the original exception travels as the cause');
    bystander.close();
    await closed(bystander);
    await server.close();
  });

  test('with no error listener it is logged with console.error, once', async () => {
    const server = await startThrowingServer();
    const logged = await consoleErrorLines(async () => {
      const client = await connect(server.url);
      const done = closed(client);
      // Three messages in one go: the first throws, the connection is failed, the others are not delivered.
      client.send('unknown 1');
      client.send('unknown 2');
      client.send('unknown 3');
      const result = await done;
      assert.equal(result.code, 1011);
      assert.equal(result.reason, 'internal error');
    });
    assert.equal(logged.length, 1, `one line, got ${JSON.stringify(logged)}`);
    await server.close();
  });

  test('an exception in a ping listener is handled the same way; one in an error or close listener is logged', async () => {
    const server = await startThrowingServer((connection) => {
      connection.on('ping', () => {
        throw new Error('ping listener bug');
      });
      connection.on('error', () => {
        throw new Error('error listener bug too');
      });
      connection.on('close', () => {
        throw new Error('close listener bug');
      });
    });
    const lines = await consoleErrorLines(async () => {
      const client = await connect(server.url);
      // First in line: the throwing 'close' listener stops an emit, so a listener behind it would not run.
      const serverClosed = new Promise<void>((resolve) => server.accepted.at(-1)!.prependOnceListener('close', () => resolve()));
      const done = closed(client);
      client.ping('x');
      const result = await done;
      assert.equal(result.code, 1011);
      assert.equal(result.reason, 'internal error');
      await serverClosed;
    });
    assert.ok(lines.some((line) => /error listener bug too/.test(line)), 'a throwing error listener is logged');
    assert.ok(lines.some((line) => /close listener bug/.test(line)), 'a throwing close listener is logged');
    await server.close();
  });
});

describe('close reasons are cut by bytes, at a UTF-8 boundary', () => {
  test('ASCII under the limit is kept, over it is cut to 123 bytes', () => {
    assert.equal(truncateCloseReason('short'), 'short');
    assert.equal(Buffer.byteLength(truncateCloseReason('x'.repeat(200))), MAX_CLOSE_REASON_BYTES);
  });

  test('two-, three- and four-byte characters are never split', () => {
    for (const character of ['é', '€', '😀']) {
      for (let prefix = 0; prefix < 4; prefix++) {
        const reason = 'a'.repeat(prefix) + character.repeat(100);
        const cut = truncateCloseReason(reason);
        const bytes = Buffer.byteLength(cut);
        assert.ok(bytes <= MAX_CLOSE_REASON_BYTES, `${bytes} bytes`);
        assert.ok(bytes > MAX_CLOSE_REASON_BYTES - Buffer.byteLength(character), `cut too short: ${bytes} bytes`);
        assert.ok(reason.startsWith(cut), 'a prefix of the original, with no replacement character');
      }
    }
  });
});
