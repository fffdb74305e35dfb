// Real browser tests: headless Chromium driven over CDP by our own WebSocket client (test/helpers/chromium.ts).
// Both directions at once: our client talks to Chromium's DevTools server, Chromium's WebSocket talks to our servers.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { acceptWebSocket, type WebSocketConnection } from '../lib/websocket/index.ts';
import { Browser, CHROMIUM_MISSING, findChromium, type Page } from './helpers/chromium.ts';

const chromium = findChromium();
if (!chromium) console.log(`# ${CHROMIUM_MISSING}`);

describe('Chromium against our WebSocket echo server', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let browser: Browser;
  let page: Page;
  let server: Server;
  let port: number;
  const serverSideCloses: Array<{ code: number; reason: string; wasClean: boolean }> = [];
  let closeSeen: (() => void) | undefined;

  before(async () => {
    server = createServer((_request, response) => response.end('<!doctype html><title>echo</title><p>echo test page</p>'));
    server.on('upgrade', (request, socket, head) => {
      const connection: WebSocketConnection | undefined = acceptWebSocket(request, socket, head);
      if (!connection) return;
      connection.on('message', (data, isBinary) => {
        if (!isBinary && data.toString() === 'please close') connection.close(4000, 'closing as you asked');
        else connection.send(data, { binary: isBinary });
      });
      connection.on('close', (code, reason, wasClean) => {
        serverSideCloses.push({ code, reason, wasClean });
        closeSeen?.();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    browser = await Browser.launch(chromium!);
    page = await browser.newPage();
    await page.navigate(`http://127.0.0.1:${port}/`);
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  test('text, binary (ArrayBuffer) and a 1 MiB message come back intact', async () => {
    const result = await page.evaluate<{ text: string; binary: number[]; bigLength: number; bigChecksum: number; bigIsBinary: boolean }>(`(async () => {
      const socket = new WebSocket('ws://127.0.0.1:${port}/echo');
      socket.binaryType = 'arraybuffer';
      const next = () => new Promise((resolve, reject) => { socket.onmessage = (event) => resolve(event.data); socket.onclose = () => reject(new Error('closed')); });
      await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
      socket.send('héllo, wörld ✓ 🎄');
      const text = await next();
      socket.send(new Uint8Array([0, 1, 2, 253, 254, 255]).buffer);
      const binary = Array.from(new Uint8Array(await next()));
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
      socket.send(big.buffer);
      const echoed = await next();
      const bytes = new Uint8Array(echoed);
      let checksum = 0;
      for (let i = 0; i < bytes.length; i++) checksum = (checksum + bytes[i] * (i % 251)) % 1000000007;
      socket.close(1000);
      return { text, binary, bigLength: bytes.length, bigChecksum: checksum, bigIsBinary: echoed instanceof ArrayBuffer };
    })()`);
    assert.equal(result.text, 'héllo, wörld ✓ 🎄');
    assert.deepEqual(result.binary, [0, 1, 2, 253, 254, 255]);
    assert.equal(result.bigLength, 1024 * 1024);
    assert.equal(result.bigIsBinary, true);
    let expected = 0;
    for (let index = 0; index < 1024 * 1024; index++) expected = (expected + ((index * 7) & 255) * (index % 251)) % 1000000007;
    assert.equal(result.bigChecksum, expected);
  });

  test('a close with code and reason is seen on both sides', async () => {
    const serverClosed = new Promise<void>((resolve) => {
      closeSeen = () => { if (serverSideCloses.some((close) => close.code === 4321)) resolve(); };
    });
    const browserSide = await page.evaluate<{ code: number; reason: string; wasClean: boolean }>(`(async () => {
      const socket = new WebSocket('ws://127.0.0.1:${port}/echo');
      await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
      const closed = new Promise((resolve) => { socket.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }); });
      socket.close(4321, 'bye from the browser');
      return closed;
    })()`);
    await serverClosed;
    // The browser started the handshake: it sees our echo of its code, and a clean close.
    assert.deepEqual(browserSide, { code: 4321, reason: '', wasClean: true });
    assert.deepEqual(serverSideCloses.find((close) => close.code === 4321), { code: 4321, reason: 'bye from the browser', wasClean: true });
  });

  test('a close started by our server reaches the browser with its code and reason', async () => {
    const browserSide = await page.evaluate<{ code: number; reason: string; wasClean: boolean }>(`(async () => {
      const socket = new WebSocket('ws://127.0.0.1:${port}/echo');
      await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
      const closed = new Promise((resolve) => { socket.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }); });
      socket.send('please close');
      return closed;
    })()`);
    assert.deepEqual(browserSide, { code: 4000, reason: 'closing as you asked', wasClean: true });
  });
});
