// `npm start` as a user runs it: servers/north-pole.ts as a child process on port 0 (it prints the real
// port), serving the front page and day 19 on both HTTP stacks, and shutting down cleanly on SIGTERM:
// every WebSocket gets 1001, the process exits 0.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../lib/websocket/index.ts';
import { closed, DEFAULT_WAIT_MS, nextMessage } from './helpers/wait.ts';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = 'servers/north-pole.ts';
const START_WAIT_MS = 20_000; // tsx compiles every module on first start

interface Running {
  child: ChildProcess;
  port: number;
  chatPort: number | undefined;
  output: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Start the server and wait for its "listening on http://HOST:PORT/" line. */
function start(extraArguments: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--port', '0', ...extraArguments], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${START_WAIT_MS} ms; stdout: ${stdout} stderr: ${stderr}`)), START_WAIT_MS);
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const listening = /^listening on http:\/\/127\.0\.0\.1:(\d+)\//m.exec(stdout);
      // The banner is printed in one go; wait for its last line so the chat port is known too.
      if (listening && stdout.includes('Ctrl-C to stop.')) {
        clearTimeout(timer);
        const chat = /BATCHAT \(telnet\)\s+\S+ port (\d+)/.exec(stdout);
        resolve({ child, port: Number(listening[1]), chatPort: chat ? Number(chat[1]) : undefined, output: () => stdout + stderr, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening; stdout: ${stdout} stderr: ${stderr}`));
    });
  });
}

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path, agent: false, timeout: DEFAULT_WAIT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`GET ${path} timed out`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  })]).finally(() => clearTimeout(timer));
}

for (const stack of ['raw', 'node-http'] as const) {
  describe(`npm start (${stack === 'raw' ? 'our HTTP server' : '--node-http'})`, () => {
    test('serves the front page and day 19, then closes WebSockets with 1001 and exits 0 on SIGTERM', async () => {
      const server = await start(stack === 'raw' ? ['--chat-port', '0'] : ['--node-http', '--no-chat']);

      const front = await get(server.port, '/');
      assert.equal(front.status, 200);
      assert.match(front.type, /^text\/html/);
      // The services are listed in the page itself, not inside an HTML comment, and no placeholder is left.
      const visible = front.body.replace(/<!--[^]*?-->/g, '');
      for (const link of ['href="/19/"', 'href="/19/ping.html"', 'href="/hello"', 'Poparazzi', 'href="/teams/summary"']) assert.ok(visible.includes(link), link);
      assert.equal(front.body.includes('{{'), false);
      assert.equal(front.body.includes('BATCHAT'), stack === 'raw');
      assert.match((await get(server.port, '/style.css')).type, /^text\/css/);

      const birdApp = await get(server.port, '/19/');
      assert.equal(birdApp.status, 200);
      assert.ok(birdApp.body.includes('id="tweets"'));
      assert.equal((await get(server.port, '/19/views')).status, 200);
      assert.equal((await get(server.port, '/hello')).status, 200);

      const player = await connect(`ws://127.0.0.1:${server.port}/19/ws/ping`);
      const goodbye = closed(player, START_WAIT_MS);
      player.send('serve');
      player.send('ping');
      assert.equal((await nextMessage(player)).text, 'pong');

      server.child.kill('SIGTERM');
      const close = await goodbye;
      assert.equal(close.code, 1001);
      assert.equal(await withTimeout(server.exited, 'the server to exit', START_WAIT_MS), 0);
      assert.match(server.output(), /SIGTERM: closing every WebSocket with 1001/);
    });
  });
}

test('npm start --help explains the options and exits 0; a bad port is a clear error with exit 2', () => {
  const help = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, '--help'], { cwd: PROJECT, encoding: 'utf8', timeout: START_WAIT_MS });
  assert.equal(help.status, 0);
  for (const option of ['--port', '--host', '--node-http', '--chat-port', '--no-chat']) assert.ok(help.stdout.includes(option), option);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, '--port', '99999'], { cwd: PROJECT, encoding: 'utf8', timeout: START_WAIT_MS });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be a port number from 0 to 65535/);
});
