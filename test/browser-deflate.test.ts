// Chromium against our server with permessage-deflate (RFC 7692) negotiated, checked on the wire:
// the wire tap (lib/websocket/wire-tap.ts) sees every frame as it travels, so the test can assert that
// Chromium's frames carry RSV1 and ours too, not only that the messages arrive intact.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { acceptWebSocket, type WebSocketConnection } from '../lib/websocket/index.ts';
import type { TracedFrame } from '../lib/websocket/wire-trace.ts';
import { browserOn, CHROMIUM_MISSING, findChromium, type Page } from './helpers/chromium.ts';

const chromium = findChromium();

describe('Chromium against our echo server with permessage-deflate', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let closeAll: (() => Promise<void>) | undefined;
  let page: Page;
  let server: Server;
  let port: number;
  const frames: TracedFrame[] = [];
  const connections: WebSocketConnection[] = [];

  before(async () => {
    server = createServer((_request, response) => response.end('<!doctype html><title>deflate</title>'));
    server.on('upgrade', (request, socket, head) => {
      const connection = acceptWebSocket(request, socket, head, {
        perMessageDeflate: { threshold: 64 },
        trace: () => (event) => {
          if (event.kind === 'frame') frames.push(event.frame);
        },
      });
      if (!connection) return;
      connections.push(connection);
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    });
    ({ port, page, close: closeAll } = await browserOn(server, chromium!));
  });

  after(() => closeAll?.());

  test('negotiated; compressible text and 1 MiB binary compressed both ways (RSV1 on the wire); small text plain', async () => {
    const result = await page.evaluate<{ extensions: string; text: boolean; small: string; bigLength: number; bigSum: number }>(`(async () => {
      const socket = new WebSocket('ws://127.0.0.1:${port}/');
      socket.binaryType = 'arraybuffer';
      const next = () => new Promise((resolve, reject) => { socket.onmessage = (event) => resolve(event.data); socket.onclose = () => reject(new Error('closed')); });
      await new Promise((resolve) => { socket.onopen = resolve; });
      const json = JSON.stringify(Array.from({ length: 200 }, (_, id) => ({ id, user: 'user-' + (id % 5), text: 'hello hello hello' })));
      socket.send(json);
      const text = (await next()) === json;
      socket.send('hi');
      const small = await next();
      const big = new Uint8Array(1024 * 1024).fill(3);
      socket.send(big);
      const echoed = new Uint8Array(await next());
      socket.close(1000);
      return { extensions: socket.extensions, text, small, bigLength: echoed.length, bigSum: echoed.reduce((a, b) => a + b, 0) };
    })()`);
    assert.match(result.extensions, /^permessage-deflate/);
    assert.equal(connections.at(-1)!.extensions.startsWith('permessage-deflate'), true);
    assert.equal(result.text, true);
    assert.equal(result.small, 'hi');
    assert.equal(result.bigLength, 1024 * 1024);
    assert.equal(result.bigSum, 3 * 1024 * 1024);

    const data = frames.filter((frame) => frame.opcode === 1 || frame.opcode === 2);
    const fromBrowser = data.filter((frame) => frame.direction === 'in');
    const fromUs = data.filter((frame) => frame.direction === 'out');
    assert.ok(fromBrowser.some((frame) => frame.rsv1 && frame.opcode === 1), 'Chromium compressed the JSON');
    assert.ok(fromUs.some((frame) => frame.rsv1 && frame.opcode === 1 && frame.payloadLength < 2000), 'we compressed the JSON echo (it shrank)');
    assert.ok(fromUs.some((frame) => frame.rsv1 && frame.opcode === 2 && frame.payloadLength < 64 * 1024), 'we compressed 1 MiB of 3s to little');
    assert.ok(fromUs.some((frame) => !frame.rsv1 && frame.opcode === 1 && frame.payloadLength === 2), 'under the threshold: sent plain');
  });
});
