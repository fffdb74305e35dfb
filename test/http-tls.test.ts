// TLS on our own servers: the raw HTTP server (and node:https through listenRouter) serving https:// and wss://
// with a certificate made at test time, reached by our client, Node's built-in fetch and WebSocket, and curl;
// then the three programs that take --tls-cert/--tls-key, including their one-line errors for bad files.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Router } from '../lib/http/router.ts';
import { text } from '../lib/http/responses.ts';
import { listenRouter, type HttpStack, type RunningRouter } from '../lib/http/listen.ts';
import { connect } from '../lib/websocket/index.ts';
import { closed, nextMessage } from './helpers/wait.ts';
import { makeTestCertificate, OPENSSL_MISSING, type TestCertificate } from './helpers/certificate.ts';
import { within } from './http-test-helpers.ts';

const run = promisify(execFile);
const PROJECT = fileURLToPath(new URL('..', import.meta.url));
const START_WAIT_MS = 20_000; // tsx compiles every module on a program's first start

let certificate: TestCertificate | undefined;
function testCertificate(): TestCertificate {
  return certificate ??= makeTestCertificate();
}
const running: RunningRouter[] = [];
after(async () => {
  await Promise.all(running.map((server) => server.close()));
  certificate?.remove();
});

const bigBody = Buffer.alloc(3 * 1024 * 1024, 0x62);
function tlsRouter(): Router {
  return new Router()
    .get('/hello', () => text('hello over TLS'))
    .get('/big', () => ({ body: bigBody }))
    .ws('/echo', (connection) => {
      connection.on('message', (data, isBinary) => connection.send(data, { binary: isBinary }));
    });
}

/** Node's own clients in a child process, trusting the test CA through NODE_EXTRA_CA_CERTS: fetch, then WebSocket. */
const NODE_CLIENT_SCRIPT = `
  const [base] = process.argv.slice(1);
  const response = await fetch(base + '/hello');
  const body = await response.text();
  const socket = new WebSocket(base.replace('https', 'wss') + '/echo');
  socket.onopen = () => socket.send('from node');
  socket.onmessage = (event) => {
    console.log(JSON.stringify({ status: response.status, body, echoed: event.data }));
    socket.close(1000);
  };
  socket.onerror = (event) => { console.log(JSON.stringify({ error: String(event.message ?? event) })); process.exit(1); };
`;

for (const stack of ['raw', 'node'] as HttpStack[]) {
  describe(`${stack} stack over TLS`, { skip: OPENSSL_MISSING }, () => {
    let port = 0;
    test('starts with a certificate and key', async () => {
      const { cert, key } = testCertificate();
      const server = await listenRouter(tlsRouter(), 0, '127.0.0.1', stack, { cert, key });
      running.push(server);
      port = server.port;
    });

    test('our client: wss:// echo of a small and a 300 KiB message, then a clean close', async () => {
      const client = await connect(`wss://localhost:${port}/echo`, { tls: { ca: testCertificate().cert } });
      client.send('over TLS');
      assert.equal((await nextMessage(client)).text, 'over TLS');
      const large = Buffer.alloc(300 * 1024, 5);
      client.send(large);
      assert.ok((await nextMessage(client)).data.equals(large));
      client.close(1000);
      assert.equal((await closed(client)).wasClean, true);
    });

    test('curl --cacert: https:// GET of a page and of a 3 MiB body', async () => {
      const { certPath } = testCertificate();
      const hello = await run('curl', ['-sS', '--cacert', certPath, `https://localhost:${port}/hello`]);
      assert.equal(hello.stdout, 'hello over TLS');
      const big = await run('curl', ['-sS', '--cacert', certPath, '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `https://localhost:${port}/big`]);
      assert.equal(big.stdout, `200 ${bigBody.length}`);
    });

    test("Node's fetch and WebSocket, trusting the certificate through NODE_EXTRA_CA_CERTS", async () => {
      const needsFlag = typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'function';
      const { stdout } = await run(process.execPath, [...(needsFlag ? ['--experimental-websocket'] : []), '--no-warnings',
        '--input-type=module', '-e', NODE_CLIENT_SCRIPT, `https://localhost:${port}`],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: testCertificate().certPath }, timeout: 15_000 });
      assert.deepEqual(JSON.parse(stdout), { status: 200, body: 'hello over TLS', echoed: 'from node' });
    });

    test('plain-text HTTP sent to the TLS port is refused without harming the server', async () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /hello HTTP/1.1\r\nHost: a\r\n\r\n');
      socket.resume();
      await within(new Promise((resolve) => socket.once('close', resolve)), 10_000, 'the server to drop a non-TLS client');
      const { stdout } = await run('curl', ['-sS', '--cacert', testCertificate().certPath, `https://localhost:${port}/hello`]);
      assert.equal(stdout, 'hello over TLS');
    });
  });
}

interface Program {
  entry: string;
  /** The banner line that shows the program is serving, with the port in group 1. */
  banner: RegExp;
  extraArguments: string[];
}

const PROGRAMS: Record<string, Program> = {
  'npm start': { entry: 'servers/north-pole.ts', banner: /^listening on https:\/\/127\.0\.0\.1:(\d+)\//m, extraArguments: ['--no-chat'] },
  'npm run echo': { entry: 'servers/echo/main.ts', banner: /^echo server listening on wss:\/\/127\.0\.0\.1:(\d+)\//m, extraArguments: [] },
  'npm run poparazzi': { entry: 'servers/poparazzi/main.ts', banner: /^poparazzi stream on wss:\/\/127\.0\.0\.1:(\d+)\/ \(sessions: POST https:/m, extraArguments: [] },
};

/** Start a program; resolves with its port once the banner is printed. */
function startProgram(program: Program, tlsArguments: string[]): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', program.entry, '--port', '0', ...program.extraArguments, ...tlsArguments],
    { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exited;
  };
  return within(new Promise<{ port: number; stop: () => Promise<void> }>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = program.banner.exec(output);
      if (match) resolve({ port: Number(match[1]), stop });
    });
    void exited.then(() => reject(new Error(`exited before its banner: ${output}`)));
  }), START_WAIT_MS, `the banner of ${program.entry}`).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
}

/** Run a program that should refuse to start; its exit status and stderr. */
async function refusedStart(program: Program, tlsArguments: string[]): Promise<{ code: number | null; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', program.entry, '--port', '0', ...program.extraArguments, ...tlsArguments], { cwd: PROJECT, timeout: START_WAIT_MS });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number | null; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('the programs with --tls-cert and --tls-key', { skip: OPENSSL_MISSING }, () => {
  for (const [name, program] of Object.entries(PROGRAMS)) {
    test(`${name}: serves wss:// (and https://), announced in the banner`, async () => {
      const { cert, certPath, keyPath } = testCertificate();
      const { port, stop } = await startProgram(program, ['--tls-cert', certPath, '--tls-key', keyPath]);
      try {
        if (name === 'npm run poparazzi') {
          const { stdout } = await run('curl', ['-sS', '--cacert', certPath, '-X', 'POST', '-H', 'content-type: application/json', '-d', '{}', `https://localhost:${port}/sessions`]);
          assert.equal(typeof (JSON.parse(stdout) as { token?: unknown }).token, 'string');
        }
        if (name === 'npm start') {
          const { stdout } = await run('curl', ['-sS', '--cacert', certPath, '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${port}/`]);
          assert.equal(stdout, '200');
        }
        // A WebSocket over TLS: echo answers, Day 19's game answers "ping" with "pong" once served, Poparazzi wants a token first.
        const path = name === 'npm start' ? '/19/ws/ping' : '/';
        const client = await connect(`wss://localhost:${port}${path}`, { tls: { ca: cert } });
        if (name === 'npm run poparazzi') {
          client.close(1000);
        } else {
          if (name === 'npm start') client.send('serve');
          client.send(name === 'npm start' ? 'ping' : 'echo me');
          assert.equal((await nextMessage(client)).text, name === 'npm start' ? 'pong' : 'echo me');
          client.close(1000);
        }
        await closed(client);
      } finally {
        await stop();
      }
    });

    test(`${name}: --tls-cert without --tls-key is a usage error; a missing or unusable file is one line and exit 1`, async () => {
      const { certPath, keyPath, directory } = testCertificate();
      const garbage = join(directory, 'not-a-key.pem');
      writeFileSync(garbage, 'not a key\n');
      const [alone, missing, unusable] = await Promise.all([
        refusedStart(program, ['--tls-cert', certPath]),
        refusedStart(program, ['--tls-cert', join(directory, 'no-such-cert.pem'), '--tls-key', keyPath]),
        refusedStart(program, ['--tls-cert', certPath, '--tls-key', garbage]),
      ]);
      assert.equal(alone.code, 2);
      assert.match(alone.stderr, /--tls-cert and --tls-key go together/);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^[\w-]+: cannot read TLS certificate .*no-such-cert\.pem: no such file\n$/);
      assert.equal(unusable.code, 1);
      assert.match(unusable.stderr, /^[\w-]+: cannot use TLS certificate .* with key .*: [^\n]+\n$/);
    });
  }
});
