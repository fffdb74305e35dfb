// clients/wscat: the pure command and display functions, then the real program — spawned with
// `node --import tsx clients/wscat/main.ts`, stdin piped in — against our echo server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer as WsServer } from 'ws';
import { closeCodeName, exitStatusForClose, formatClose, formatControlFrame, formatMessage, parseCommand, parseHeader } from '../clients/wscat/commands.ts';
import { startEchoServer, type EchoServer } from '../servers/echo/server.ts';
import { runProgram } from './helpers/program.ts';

const MAIN = fileURLToPath(new URL('../clients/wscat/main.ts', import.meta.url));

describe('wscat commands and display', () => {
  test('plain lines are text; // escapes a leading slash', () => {
    assert.deepEqual(parseCommand('hello'), { kind: 'text', text: 'hello' });
    assert.deepEqual(parseCommand(''), { kind: 'text', text: '' });
    assert.deepEqual(parseCommand('//ping'), { kind: 'text', text: '/ping' });
  });

  test('/ping, /close, /binary, /help', () => {
    assert.deepEqual(parseCommand('/ping'), { kind: 'ping', payload: '' });
    assert.deepEqual(parseCommand('/ping are you there'), { kind: 'ping', payload: 'are you there' });
    assert.deepEqual(parseCommand('/close'), { kind: 'close', code: 1000, reason: '' });
    assert.deepEqual(parseCommand('/close 4001 going home now'), { kind: 'close', code: 4001, reason: 'going home now' });
    assert.deepEqual(parseCommand('/binary 00ff 10'), { kind: 'binary', data: Buffer.from([0, 255, 16]) });
    assert.deepEqual(parseCommand('/help'), { kind: 'help' });
  });

  test('bad commands get a clear message instead of being sent', () => {
    for (const line of ['/close 1006', '/close abc', '/close 5000', '/binary abc', '/binary zz', '/nope', `/ping ${'x'.repeat(126)}`]) {
      assert.equal(parseCommand(line).kind, 'invalid', line);
    }
    const unknown = parseCommand('/nope');
    assert.ok(unknown.kind === 'invalid' && /\/help/.test(unknown.message));
  });

  test('--header "Name: value"', () => {
    assert.deepEqual(parseHeader('Authorization: Bearer abc:def'), ['Authorization', 'Bearer abc:def']);
    assert.equal(typeof parseHeader('no colon'), 'string');
    assert.equal(typeof parseHeader('Bad Name: x'), 'string');
  });

  test('messages: text as is, binary as length and hex, long binary cut', () => {
    assert.equal(formatMessage(Buffer.from('héllo'), false), '< héllo');
    assert.equal(formatMessage(Buffer.from([0, 1, 255]), true), '<[binary] 3 bytes: 0001ff');
    assert.match(formatMessage(Buffer.alloc(300), true), /^<\[binary\] 300 bytes: (00){256} … \(44 more bytes\)$/);
  });

  test('control frames have their own marker, which no text message can produce', () => {
    assert.equal(formatControlFrame('pong', Buffer.from('marco')), '<[pong] marco');
    assert.equal(formatControlFrame('ping', Buffer.alloc(0)), '<[ping]');
    assert.equal(formatMessage(Buffer.from('[pong] marco'), false), '< [pong] marco');
    // A line break in a text message continues indented, so the next line cannot pass for a marker.
    assert.equal(formatMessage(Buffer.from('one\n<[pong] forged'), false), '< one\n  <[pong] forged');
  });

  test('terminal control characters in what the server sends are shown, not obeyed', () => {
    assert.equal(formatMessage(Buffer.from('a\x1b[2Jb\rc\x07'), false), '< a␛[2Jb␍c␇');
    assert.equal(formatControlFrame('pong', Buffer.from('\x1b]0;title\x07')), '<[pong] ␛]0;title␇');
  });

  test('close codes are shown with their names; exit status 0 only for a normal clean close', () => {
    assert.equal(closeCodeName(1000), '1000 Normal');
    assert.equal(closeCodeName(1009), '1009 MessageTooBig');
    assert.equal(closeCodeName(4001), '4001 (private use)');
    assert.equal(formatClose(1006, '', false), '* closed: 1006 Abnormal (no clean close handshake)');
    assert.equal(exitStatusForClose(1000, true), 0);
    assert.equal(exitStatusForClose(1005, true), 0);
    assert.equal(exitStatusForClose(1002, false), 1);
    assert.equal(exitStatusForClose(4001, true), 1);
  });
});

describe('wscat against the echo server', () => {
  let echoServer: EchoServer;
  before(async () => {
    echoServer = await startEchoServer();
  });
  after(async () => {
    await echoServer.close();
  });

  /** Run wscat with `args`, write `input` to its stdin (then end it), collect stdout, stderr and the exit status. */
  async function runWscat(args: string[], input: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.stdin.end(input);
      const [status] = await once(child, 'exit');
      return { stdout, stderr, status };
    } finally {
      clearTimeout(killTimer);
      child.kill('SIGKILL');
    }
  }

  test('each line is sent, each echo printed; /binary and /ping; end of input closes with 1000 and exit 0', async () => {
    const result = await runWscat([`ws://127.0.0.1:${echoServer.port}/`], 'hello\n/binary 00ff10\n/ping marco\nsecond line\n//slash\n');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), ['< hello', '<[binary] 3 bytes: 00ff10', '<[pong] marco', '< second line', '< /slash']);
    assert.match(result.stderr, /\* connected to ws:\/\/127\.0\.0\.1/);
    assert.match(result.stderr, /\* closed: 1000 Normal/);
  });

  test('/close with a code and reason: the server echoes the code, shown by name', async () => {
    const result = await runWscat([`http://127.0.0.1:${echoServer.port}/`], '/close 4001 see you\n');
    assert.match(result.stderr, /\* closed: 4001 \(private use\)/);
    assert.equal(result.status, 0, 'the user asked for this close');
  });

  test('a refused handshake shows the HTTP status and the server\'s reason, and exits nonzero', async () => {
    // A plain HTTP server that refuses every upgrade with 403.
    const server = createServer((socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 19\r\n\r\norigin not allowed\n'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const result = await runWscat([`ws://127.0.0.1:${(server.address() as { port: number }).port}/`], '');
      assert.equal(result.status, 1);
      assert.match(result.stderr, /handshake failed: server refused: 403 Forbidden — origin not allowed\n/);
    } finally {
      server.close();
    }
  });

  test('bad usage: no URL → exit 2 with the usage; --help → exit 0', async () => {
    const missing = await runWscat([], '');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /a URL is needed/);
    const help = await runWscat(['--help'], '');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: npm run wscat/);
  });

  test('a bad command is explained and nothing is sent', async () => {
    const result = await runWscat([`ws://127.0.0.1:${echoServer.port}/`], '/close 1006\nafter\n');
    assert.match(result.stderr, /1006 is not a close code that may be sent/);
    assert.equal(result.stdout.trim(), '< after');
    assert.equal(result.status, 0);
  });
});

describe('wscat and control frames from the server', () => {
  test('a ping frame, a pong frame and a text message "pong" are told apart; --help explains the markers', async () => {
    const server = new WsServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (socket) => {
      socket.ping('hi');
      socket.pong('unasked');
      socket.send('pong');
      socket.send('[pong] fake');
      socket.close(4000, 'bye');
    });
    try {
      // stdin stays open: the server ends the conversation.
      const running = runProgram('clients/wscat/main.ts', [`ws://127.0.0.1:${(server.address() as { port: number }).port}/`], { stdin: 'pipe' });
      assert.equal(await running.exited, 1, running.stderr());
      assert.deepEqual(running.stdout().trim().split('\n'), ['<[ping] hi', '<[pong] unasked', '< pong', '< [pong] fake']);
      assert.match(running.stderr(), /\* closed: 4000 \(private use\) "bye"/);
    } finally {
      server.close();
    }
    const help = runProgram('clients/wscat/main.ts', ['--help']);
    assert.equal(await help.exited, 0);
    for (const marker of ['< ', '<[binary]', '<[ping]', '<[pong]', '* closed:']) assert.ok(help.stdout().includes(marker), `--help explains ${marker}`);
  });
});
