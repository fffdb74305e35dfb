// The wire inspector: the decoder (lib/websocket/wire-trace.ts) against frames our encoder made, split
// anywhere; the tap on real sockets (wscat --trace, echo --trace); and the /wire/ page in Chromium,
// which must show the frames exactly as the browser sent them (opcode, MASK=1, the length form).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Router } from '../lib/http/router.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { encodeFrame } from '../lib/websocket/frame-encoder.ts';
import { MaskKeySource } from '../lib/websocket/mask.ts';
import { Opcode } from '../lib/websocket/opcodes.ts';
import { WireDecoder, type WireEvent, type TracedFrame } from '../lib/websocket/wire-trace.ts';
import { connect } from '../lib/websocket/index.ts';
import { startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { registerWireInspector, type WireInspector } from '../servers/wire/routes.ts';
import { Browser, CHROMIUM_MISSING, findChromium, type Page } from './helpers/chromium.ts';
import { nextMessage } from './helpers/wait.ts';

function decodeAll(bytes: Buffer, masked: boolean, httpHead: boolean, splitAt: number[] = []): WireEvent[] {
  const events: WireEvent[] = [];
  const decoder = new WireDecoder({ direction: masked ? 'in' : 'out', masked, httpHead }, (event) => events.push(event));
  let start = 0;
  for (const at of [...splitAt, bytes.length]) {
    decoder.push(bytes.subarray(start, at));
    start = at;
  }
  return events;
}

function frames(events: WireEvent[]): TracedFrame[] {
  return events.flatMap((event) => (event.kind === 'frame' ? [event.frame] : []));
}

describe('the wire decoder', () => {
  test('shows each length form, the key and the payload masked and unmasked, split at every byte', () => {
    const keys = new MaskKeySource();
    for (const [length, lengthBits] of [[5, 7], [125, 7], [126, 16], [200, 16], [65_535, 16], [65_536, 64], [70_000, 64]] as const) {
      const payload = Buffer.alloc(length, 'abcdefghij');
      const wire = Buffer.concat(encodeFrame(Opcode.Text, payload, true, keys));
      const splits = length < 300 ? [...Array(wire.length).keys()].slice(1) : [1, 3, 7, 100, 40_000];
      for (const split of splits) {
        const [frame, ...rest] = frames(decodeAll(wire, true, false, [split]));
        assert.equal(rest.length, 0);
        assert.equal(frame!.opcodeName, 'text');
        assert.equal(frame!.masked, true);
        assert.equal(frame!.payloadLength, length);
        assert.equal(frame!.lengthBits, lengthBits, `length ${length}`);
        const headerLength = frame!.headerBytes.length;
        assert.deepEqual(frame!.headerBytes, wire.subarray(0, headerLength), 'header bytes as on the wire');
        assert.deepEqual(frame!.maskKey, wire.subarray(headerLength - 4, headerLength));
        const shown = frame!.payload.length;
        assert.equal(shown, Math.min(16, length));
        assert.deepEqual(frame!.payloadOnWire, wire.subarray(headerLength, headerLength + shown), 'masked bytes as sent');
        assert.deepEqual(frame!.payload, payload.subarray(0, shown), 'unmasked bytes');
      }
    }
  });

  test('reads the HTTP head, then the frames in the same chunk, and does not change the bytes it is given', () => {
    const head = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    const wire = Buffer.concat([head, ...encodeFrame(Opcode.Ping, Buffer.from('hi')), ...encodeFrame(Opcode.Binary, Buffer.from([1, 2, 3]))]);
    const copy = Buffer.from(wire);
    for (let split = 1; split < wire.length; split++) {
      const events = decodeAll(wire, false, true, [split]);
      assert.deepEqual(events.map((event) => event.kind), ['http', 'frame', 'frame']);
      assert.deepEqual((events[0] as { lines: string[] }).lines, ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket']);
      assert.deepEqual(frames(events).map((frame) => [frame.opcodeName, frame.masked]), [['ping', false], ['binary', false]]);
    }
    assert.deepEqual(wire, copy);
  });

  test('reports a frame that breaks the rules and stops', () => {
    const events = decodeAll(Buffer.from([0xa1, 0x80, 1, 2, 3, 4]) /* RSV2: no extension defines it */, true, false);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.kind, 'invalid');
  });
});

describe('tracing real connections', () => {
  let echo: EchoServer;
  const serverEvents: WireEvent[] = [];

  before(async () => {
    echo = await startEchoServer({ trace: () => (event) => serverEvents.push(event) });
  });
  after(() => echo.close());

  test('the client and the server see the same frames, and the connection still works', async () => {
    const clientEvents: WireEvent[] = [];
    const connection = await connect(`ws://127.0.0.1:${echo.port}/`, { trace: (event) => clientEvents.push(event) });
    connection.send('x'.repeat(200));
    assert.equal((await nextMessage(connection)).text, 'x'.repeat(200));
    connection.close();
    await new Promise((resolve) => connection.once('close', resolve));

    const clientSent = frames(clientEvents).filter((frame) => frame.direction === 'out');
    const serverGot = frames(serverEvents).filter((frame) => frame.direction === 'in');
    assert.deepEqual(serverGot.map((frame) => [frame.opcodeName, frame.lengthBits, frame.maskKey.toString('hex')]),
      clientSent.map((frame) => [frame.opcodeName, frame.lengthBits, frame.maskKey.toString('hex')]));
    assert.equal(clientEvents[0]!.kind, 'http');
    assert.match((clientEvents[0] as { lines: string[] }).lines[0]!, /^GET \/ HTTP\/1\.1$/);
    assert.ok(clientEvents.some((event) => event.kind === 'http' && event.lines[0] === 'HTTP/1.1 101 Switching Protocols'));
  });

  test('npm run wscat -- --trace prints the handshake and each frame field by field', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'clients/wscat/main.ts', '--trace', `ws://127.0.0.1:${echo.port}/`], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stdin.end('Hello\n');
    const status = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(status, 0);
    assert.match(output, />> client→server HTTP\n {3}GET \/ HTTP\/1\.1/);
    assert.match(output, />> client→server frame: FIN 1 · RSV 000 · opcode 0x1 text · MASK 1 · length 5 \(7-bit form\)\n {3}bits {4}1 000 0001 \| 1 0000101\n {3}key {5}[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\n {3}masked /);
    assert.match(output, /<< server→client frame: FIN 1 · RSV 000 · opcode 0x1 text · MASK 0 · length 5 \(7-bit form\)\n {3}bits {4}1 000 0001 \| 0 0000101\n {3}payload 48 65 6c 6c 6f {2}"Hello"/);
  });
});

const chromium = findChromium();

describe('the /wire/ page in Chromium', { skip: chromium ? false : CHROMIUM_MISSING }, () => {
  let browser: Browser;
  let page: Page;
  let server: HttpServer;
  let inspector: WireInspector;

  before(async () => {
    const router = new Router();
    inspector = registerWireInspector(router);
    server = createHttpServer({ router });
    const { port } = await server.listen(0, '127.0.0.1');
    browser = await Browser.launch(chromium!);
    page = await browser.newPage();
    await page.navigate(`http://127.0.0.1:${port}/wire/`);
    await page.waitUntil(`document.getElementById('status').textContent.startsWith('Connected')`);
  });

  after(async () => {
    await browser?.close();
    await inspector?.close();
    await server?.close();
  });

  const shownFrames = `[...document.querySelectorAll('#events li[data-kind="frame"]')].map((item) => ({ ...item.dataset, direction: item.classList.contains('in') ? 'in' : 'out' }))`;

  test('a 200-byte and a 70,000-byte message show as the browser sent them: text, MASK=1, 16- and 64-bit lengths', async () => {
    await page.evaluate(`document.querySelector('[data-send="200"]').click()`);
    await page.waitUntil(`${shownFrames}.filter((frame) => frame.length === '200').length === 2`);
    await page.evaluate(`document.querySelector('[data-send="70000"]').click()`);
    await page.waitUntil(`${shownFrames}.filter((frame) => frame.length === '70000').length === 2`);
    const shown = await page.evaluate<Array<Record<string, string>>>(shownFrames);
    const pick = (direction: string, length: string) => shown.find((frame) => frame.direction === direction && frame.length === length);
    assert.deepEqual(pick('in', '200'), { kind: 'frame', opcode: 'text', mask: '1', lengthBits: '16', length: '200', fin: '1', direction: 'in' });
    assert.deepEqual(pick('out', '200'), { kind: 'frame', opcode: 'text', mask: '0', lengthBits: '16', length: '200', fin: '1', direction: 'out' });
    assert.deepEqual(pick('in', '70000'), { kind: 'frame', opcode: 'text', mask: '1', lengthBits: '64', length: '70000', fin: '1', direction: 'in' });
    const handshake = await page.evaluate<string>(`document.querySelector('#events li.http pre').textContent`);
    assert.match(handshake, /^GET \/wire\/echo\?id=/);
    // The picture in docs/: the browser's masked 200-byte frame at the top of the window.
    await page.evaluate(`document.querySelector('#events li[data-length="200"]').scrollIntoView()`);
    const screenshotDirectory = fileURLToPath(new URL('./artifacts/', import.meta.url));
    mkdirSync(screenshotDirectory, { recursive: true });
    writeFileSync(join(screenshotDirectory, 'wire-inspector.png'), await page.screenshot());
  });

  test('the server pings and the page shows the browser\'s own pong; a fragmented message shows FIN 0, 0, 1', async () => {
    await page.evaluate(`document.querySelector('[data-send="ping"]').click()`);
    await page.waitUntil(`${shownFrames}.some((frame) => frame.opcode === 'pong' && frame.direction === 'in' && frame.mask === '1')`);
    await page.evaluate(`document.querySelector('[data-send="fragmented"]').click()`);
    await page.waitUntil(`${shownFrames}.filter((frame) => frame.opcode === 'continuation').length === 2`);
    const shown = await page.evaluate<Array<Record<string, string>>>(shownFrames);
    const fragments = shown.filter((frame) => frame.direction === 'out').slice(-3);
    assert.deepEqual(fragments.map((frame) => [frame.opcode, frame.fin]), [['text', '0'], ['continuation', '0'], ['continuation', '1']]);
  });
});
