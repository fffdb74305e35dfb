// Day 19's web pages: the static-file helper (content types, no path traversal, only files it loaded)
// and the bird app driven in headless Chromium: join a room, post, see the tweet, the live counter
// and the view count (skipped when chromium is not installed).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Router } from '../lib/http/router.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { registerDay19, type Day19 } from '../servers/cch19/routes.ts';
import { loadStaticFiles, serveStaticFiles } from '../servers/cch19/static-files.ts';
import { Browser, CHROMIUM_MISSING, findChromium, type Page } from './helpers/chromium.ts';
import { DEFAULT_WAIT_MS } from './helpers/wait.ts';

/** Send raw request bytes and return the whole response (the server closes after `Connection: close`). */
function rawRequest(port: number, requestText: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => socket.destroy(new Error('no response in time')), DEFAULT_WAIT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(response);
    });
    socket.on('error', reject);
    socket.end(requestText);
  });
}

describe('static pages', () => {
  let server: HttpServer;
  let day19: Day19;
  let port: number;
  let scratch: string;

  before(async () => {
    const router = new Router();
    day19 = registerDay19(router);
    server = createHttpServer({ router });
    port = (await server.listen(0, '127.0.0.1')).port;
    scratch = mkdtempSync(join(tmpdir(), 'cch19-static-'));
  });

  after(async () => {
    await day19.close();
    await server.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the bird app and its assets are served with the right content types', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/19/', /^text\/html; charset=utf-8/], ['/19/index.html', /^text\/html/], ['/19/bird.js', /^text\/javascript/],
      ['/19/style.css', /^text\/css/], ['/19/ping.html', /^text\/html/], ['/19/ping.js', /^text\/javascript/],
    ];
    for (const [path, type] of cases) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', type, path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      await response.arrayBuffer();
    }
    const page = await (await fetch(`http://127.0.0.1:${port}/19/`)).text();
    for (const id of ['room', 'name', 'join', 'leave', 'message', 'send', 'tweets', 'views', 'counter', 'status']) assert.ok(page.includes(`id="${id}"`), id);
    const redirect = await fetch(`http://127.0.0.1:${port}/19`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/19/');
  });

  test('path traversal finds nothing: only the loaded files have routes', async () => {
    for (const target of ['/19/../package.json', '/19/%2e%2e/package.json', '/19/..%2fpackage.json', '/19/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/19/public/index.html', '/19/.hidden']) {
      const response = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(response, /^HTTP\/1\.1 40\d /, target);
      assert.ok(!response.includes('"devDependencies"'), target);
    }
  });

  test('the helper skips dot files, unknown types and folders, and rejects a mount path without "/"', () => {
    writeFileSync(join(scratch, 'page.html'), '<p>hi</p>');
    writeFileSync(join(scratch, '.secret.html'), 'no');
    writeFileSync(join(scratch, 'notes.template'), 'no');
    mkdirSync(join(scratch, 'folder.html'));
    assert.deepEqual(loadStaticFiles(scratch).map((file) => file.name), ['page.html']);
    assert.throws(() => serveStaticFiles(new Router(), '/pages', scratch), /must end with "\/"/);
  });
});

const chromium = findChromium();

describe('the bird app in Chromium', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let server: HttpServer;
  let day19: Day19;
  let port: number;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const router = new Router();
    day19 = registerDay19(router);
    server = createHttpServer({ router });
    port = (await server.listen(0, '127.0.0.1')).port;
    browser = await Browser.launch(chromium!);
    page = await browser.newPage();
    await page.navigate(`http://127.0.0.1:${port}/19/`);
  });

  after(async () => {
    await browser?.close();
    await day19?.close();
    server?.terminate();
    await server?.close();
  });

  test('join, type (the counter counts an emoji as one), post, see the tweet and the view count', async () => {
    await page.evaluate(`(() => {
      document.getElementById('room').value = '42';
      document.getElementById('name').value = 'Ölf 🎅';
      document.getElementById('join').click();
    })()`);
    await page.waitUntil(`document.getElementById('status').textContent.startsWith('In room 42')`);
    assert.equal(day19.birdApp.memberCount('42'), 1);

    const counter = await page.evaluate<string>(`(() => {
      const input = document.getElementById('message');
      input.value = '🎄'.repeat(129);
      input.dispatchEvent(new Event('input'));
      return document.getElementById('counter').textContent + '|' + document.getElementById('send').disabled;
    })()`);
    assert.equal(counter, '129 / 128|true');

    await page.evaluate(`(() => {
      const input = document.getElementById('message');
      input.value = 'Hello <b>North</b> Pole! 🎄';
      input.dispatchEvent(new Event('input'));
      document.getElementById('send').click();
    })()`);
    await page.waitUntil(`document.querySelectorAll('#tweets .tweet').length === 1`);
    const tweet = await page.evaluate<{ user: string; message: string; bold: number }>(`(() => {
      const item = document.querySelector('#tweets .tweet');
      return { user: item.querySelector('.tweet-user').textContent, message: item.querySelector('.tweet-message').textContent, bold: item.querySelectorAll('b').length };
    })()`);
    assert.deepEqual(tweet, { user: 'Ölf 🎅', message: 'Hello <b>North</b> Pole! 🎄', bold: 0 });
    await page.waitUntil(`document.getElementById('views').textContent === '1'`);
  });
});
