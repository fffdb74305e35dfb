// Real browser tests: headless Chromium driven over CDP by our own WebSocket client (test/helpers/chromium.ts).
// Both directions at once: our client talks to Chromium's DevTools server, Chromium's WebSocket talks to our servers.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '../lib/http/router.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { acceptWebSocket, type WebSocketConnection } from '../lib/websocket/index.ts';
import { registerDay19, type Day19 } from '../servers/cch19/routes.ts';
import { startHello } from '../servers/hello-http/app.ts';
import { Browser, browserOn, CHROMIUM_MISSING, findChromium, type Page } from './helpers/chromium.ts';

const chromium = findChromium();
if (!chromium) console.log(`# ${CHROMIUM_MISSING}`);

describe('Chromium against our WebSocket echo server', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let closeAll: (() => Promise<void>) | undefined;
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
    ({ port, page, close: closeAll } = await browserOn(server, chromium!));
  });

  after(() => closeAll?.());

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

describe('Chromium on the bird app (/19/): two people in one room', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let server: HttpServer;
  let day19: Day19;
  let base: string;

  before(async () => {
    const router = new Router();
    day19 = registerDay19(router);
    server = createHttpServer({ router });
    base = `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    browser = await Browser.launch(chromium!);
    [alice, bob] = [await browser.newPage(), await browser.newPage()];
    await Promise.all([alice.navigate(`${base}/19/`), bob.navigate(`${base}/19/`)]);
  });

  after(async () => {
    await browser?.close();
    await day19?.close();
    server?.terminate();
    await server?.close();
  });

  const joinRoom = (page: Page, room: string, name: string) =>
    page.evaluate(`(() => {
      document.getElementById('room').value = ${JSON.stringify(room)};
      document.getElementById('name').value = ${JSON.stringify(name)};
      document.getElementById('join').click();
    })()`);
  const post = (page: Page, text: string) =>
    page.evaluate(`(() => {
      const input = document.getElementById('message');
      input.value = ${JSON.stringify(text)};
      input.dispatchEvent(new Event('input'));
      document.getElementById('send').click();
    })()`);
  const tweets = (page: Page) =>
    page.evaluate<string[]>(`[...document.querySelectorAll('#tweets .tweet')].map((item) => item.querySelector('.tweet-user').textContent + ': ' + item.querySelector('.tweet-message').textContent)`);

  test('both post, both see both tweets in order, and the page shows the server\'s view count', async () => {
    await fetch(`${base}/19/reset`, { method: 'POST' });
    await joinRoom(alice, '7', 'alice');
    await joinRoom(bob, '7', 'bob 🎄');
    await alice.waitUntil(`document.getElementById('status').textContent.startsWith('In room 7')`);
    await bob.waitUntil(`document.getElementById('status').textContent.startsWith('In room 7')`);
    assert.equal(day19.birdApp.memberCount('7'), 2);

    await post(alice, 'Hello North Pole!');
    await bob.waitUntil(`document.querySelectorAll('#tweets .tweet').length === 1`);
    await post(bob, 'Ho ho ho 🎅');
    for (const page of [alice, bob]) await page.waitUntil(`document.querySelectorAll('#tweets .tweet').length === 2`);
    const expected = ['alice: Hello North Pole!', 'bob 🎄: Ho ho ho 🎅'];
    assert.deepEqual(await tweets(alice), expected);
    assert.deepEqual(await tweets(bob), expected);

    // Two tweets, each written to two members: four views, on the server and on both pages.
    assert.equal(await (await fetch(`${base}/19/views`)).text(), '4');
    for (const page of [alice, bob]) await page.waitUntil(`document.getElementById('views').textContent === '4'`);
  });

  test('a 129-character tweet is refused: the page will not send it, and the server ignores it if sent anyway', async () => {
    const refused = await alice.evaluate<{ counter: string; disabled: boolean }>(`(() => {
      const input = document.getElementById('message');
      input.value = '🎄'.repeat(129);
      input.dispatchEvent(new Event('input'));
      return { counter: document.getElementById('counter').textContent, disabled: document.getElementById('send').disabled };
    })()`);
    assert.deepEqual(refused, { counter: '129 / 128', disabled: true });

    // The browser's own WebSocket sends 129 (ignored) then 128 code points (accepted) to the same room.
    await alice.evaluate(`(async () => {
      const socket = new WebSocket('ws://127.0.0.1:${new URL(base).port}/19/ws/room/7/user/mallory');
      await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
      socket.send(JSON.stringify({ message: 'x'.repeat(129) }));
      socket.send(JSON.stringify({ message: '🎄'.repeat(128) }));
      await new Promise((resolve) => { socket.onmessage = resolve; });
      socket.close(1000);
    })()`);
    await bob.waitUntil(`document.querySelectorAll('#tweets .tweet').length === 3`);
    const [third] = (await tweets(bob)).slice(2);
    assert.equal(third, `mallory: ${'🎄'.repeat(128)}`);
  });

  test('a screenshot of the bird app with a few tweets, for people to look at', async () => {
    // Leaving takes a close handshake; until the close event the page keeps Join disabled, so a
    // click on it before then would be ignored. Wait for the page to say it has left.
    for (const page of [alice, bob]) {
      await page.evaluate(`document.getElementById('leave').click()`);
      await page.waitUntil(`document.getElementById('status').textContent === 'Left the room.' && !document.getElementById('join').disabled`);
    }
    await joinRoom(alice, '2023', 'santa');
    await joinRoom(bob, '2023', 'xX_f4th3r_0f_chr1stm4s_Xx');
    await bob.waitUntil(`document.getElementById('status').textContent.startsWith('In room 2023')`);
    await alice.waitUntil(`document.getElementById('status').textContent.startsWith('In room 2023')`);
    const conversation: Array<[Page, string]> = [
      [alice, 'Hello North Pole! 🎄'],
      [bob, 'Socks with tiny paddles embroidered on them?! 🏓'],
      [alice, 'Ho ho ho — still calling it Twitter.'],
    ];
    for (const [index, [page, text]] of conversation.entries()) {
      await post(page, text);
      await bob.waitUntil(`document.querySelectorAll('#tweets .tweet').length === ${index + 1}`);
    }
    await bob.evaluate(`(() => { const input = document.getElementById('message'); input.value = 'Typing a reply…'; input.dispatchEvent(new Event('input')); })()`);
    await bob.waitUntil(`document.getElementById('views').textContent === String(${await (await fetch(`${base}/19/views`)).text()})`);
    const png = await bob.screenshot();
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    const directory = fileURLToPath(new URL('./artifacts/', import.meta.url));
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, 'bird-app.png'), png);
  });
});

describe('Chromium on the Hello World page of the raw HTTP server', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  test('the page renders, and shows the request the browser sent', async () => {
    const hello = await startHello({ port: 0, host: '127.0.0.1' });
    const browser = await Browser.launch(chromium!);
    try {
      const page = await browser.newPage();
      await page.navigate(`http://127.0.0.1:${hello.port}/`);
      const seen = await page.evaluate<{ title: string; text: string }>(`({ title: document.title, text: document.body.innerText })`);
      assert.match(seen.text, /Hello, World!/i);
      assert.match(seen.text, /GET \/ HTTP\/1\.1/);
      assert.match(seen.text, /user-agent/i);
    } finally {
      await browser.close();
      await hello.close();
    }
  });
});
