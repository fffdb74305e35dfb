// The chit-chat solver end to end on loopback: against the jittery stand-in many times at once, its
// fresh-token retry after a failed conversation (against a scripted service), and the command line.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Router } from '../lib/http/router.ts';
import { json } from '../lib/http/responses.ts';
import { createHttpServer, type HttpServer } from '../lib/http/server.ts';
import { startChitchatStandin, type ChitchatStandin } from '../servers/chitchat-standin/standin.ts';
import { measureSuccessRate } from '../clients/chitchat/success-rate.ts';
import { solveChitchat } from '../clients/chitchat/solver.ts';
import { talk } from '../clients/chitchat/talk.ts';
import { WebSocketServer as WsServer } from 'ws';

const CHILD_TIMEOUT_MS = 20_000;
/**
 * Conversations are timed on a real clock, so every time scale here leaves at least 100 ms of wall
 * clock between a correct reading and a wrong one: on a loaded two-core machine a process can wait
 * tens of milliseconds for the CPU, which is not the solver's doing. Half the smallest gap between
 * intervals is 250 service ms, so a scale of 0.5 leaves 125 ms.
 */
const CLI_TIME_SCALE = 0.5;

describe('solver against the stand-in', () => {
  // Real speed (time scale 1): the margin is half the smallest gap less the jitter, 250 − 50 = 200 ms.
  // Sixty conversations opening at once in one process, on a busy two-core machine, can hold a ping
  // or the 101 back by more than 100 ms, which is not the solver's doing: at scale 0.5 that failed.
  test('wins every one of 60 seeded conversations at real speed with pings ±10% of the smallest gap early or late', async () => {
    const rates = await Promise.all(['seed-one', 'seed-two'].map((seed) => measureSuccessRate({ runs: 30, timeScale: 1, jitterMs: 50, rounds: 6, seed })));
    for (const rate of rates) assert.deepEqual({ passed: rate.passed, failures: rate.failures }, { passed: rate.runs, failures: [] });
  });
});

/** The scripted service's scale: its 700 ms ping comes after 175 ms, 100 ms short of reading as 1500. */
const SCRIPTED_TIME_SCALE = 0.25;

/**
 * A scripted service: the first conversation ends at once with the missed-beat message, the second
 * has one round (a ping 700 service ms after the opening) and gives the secret.
 */
async function startScriptedService(): Promise<{ url: string; server: HttpServer; conversations: number }> {
  const router = new Router();
  const state = { url: '', server: undefined as unknown as HttpServer, conversations: 0 };
  let issued = 0;
  router.get('/challenges/websocket_chit_chat/problem', () => json({ token: `token-${++issued}` }));
  router.post('/challenges/websocket_chit_chat/solve', (request) =>
    JSON.parse(request.body.toString()).secret === 'scripted-secret' ? json({ result: 'passed' }) : json({ error: 'wrong' }, 400));
  router.ws('/_/ws/:token', (connection) => {
    state.conversations++;
    connection.send('hello! start counting the time between the pings (start from the moment you opened this connection)');
    if (state.conversations === 1) {
      connection.send('ouch! seems like you missed a beat... sorry, this conversation is over. closing socket.');
      connection.close(4000, 'missed a beat');
      return;
    }
    const ping = setTimeout(() => connection.send('ping!'), 700 * SCRIPTED_TIME_SCALE);
    connection.on('message', (data) => {
      connection.send(data.toString() === '700' ? 'good!' : 'ouch! no! that was a 700 ms interval');
      connection.send('congratulations! the solution to this challenge is "scripted-secret"');
      connection.close(1000);
    });
    connection.on('close', () => clearTimeout(ping));
  });
  state.server = createHttpServer({ router });
  const address = await state.server.listen(0, '127.0.0.1');
  state.url = `http://127.0.0.1:${address.port}`;
  return state;
}

describe('solver log', () => {
  test('lines labelled "server:" quote the server verbatim: not cut, not reworded, control characters shown', async () => {
    const long = `hello! ${'x'.repeat(300)}`;
    const secretLine = 'congratulations! the solution to this challenge is "s3cr3t"';
    const server = new WsServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
    server.on('connection', (socket) => {
      socket.send(long);
      socket.send('odd \x1b[2Jline\r\nnext');
      socket.send(secretLine);
    });
    try {
      const lines: string[] = [];
      const result = await talk(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`, { log: (line) => lines.push(line) });
      assert.deepEqual(result, { ok: true, secret: 's3cr3t', rounds: 0 });
      assert.deepEqual(lines.filter((line) => line.includes('server:')), [
        `  server: ${long}`,
        '  server: odd ␛[2Jline␍␊next',
        `  server: ${secretLine}`,
      ]);
    } finally {
      server.close();
    }
  });
});

describe('solver retries', () => {
  test('a failed conversation is reported and followed by a fresh token and a new attempt', async () => {
    const service = await startScriptedService();
    try {
      const lines: string[] = [];
      const result = await solveChitchat({ base: service.url, accessToken: 'me', attempts: 3, timeScale: SCRIPTED_TIME_SCALE, log: (line) => lines.push(line) });
      assert.equal(result.ok, true);
      assert.equal(result.secret, 'scripted-secret');
      assert.equal(service.conversations, 2);
      assert.equal(result.failures.length, 1);
      assert.match(result.failures[0]!, /^ouch! seems like you missed a beat.*connection closed \(4000 missed a beat\)$/);
      assert.ok(lines.some((line) => line.startsWith('attempt 1/3 failed: ouch! seems like you missed a beat')), lines.join('\n'));
      assert.ok(lines.some((line) => /round  1: .* → answered  700  good!$/.test(line)), lines.join('\n'));
    } finally {
      await service.server.close();
    }
  });

  test('gives up after --attempts conversations, with every reason', async () => {
    // At 0.2 the shortest interval is 140 ms: the solver's (wrong) answer always arrives before the next
    // ping is due, so the failure is the wrong answer, never a missed beat on a slow machine.
    const standin = await startChitchatStandin({ timeScale: 0.2 });
    try {
      // Answering as if the scale were 1 reads every interval as 700: wrong, unless it was 700.
      const result = await solveChitchat({ base: standin.url, accessToken: 'me', attempts: 2, timeScale: 10 });
      assert.equal(result.ok, false);
      assert.equal(result.failures.length, 2);
      for (const failure of result.failures) assert.match(failure, /^ouch! no! that was a \d+ ms interval, you said 700\./);
    } finally {
      await standin.close();
    }
  });
});

/** Run the solver's command line; resolves with its exit code and output (killed if it overruns). */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'clients/chitchat/main.ts', ...args], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, HACKATTIC_ACCESS_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    const [code] = await once(child, 'exit');
    return { code: code as number | null, output };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe('npm run chitchat', () => {
  let standin: ChitchatStandin;
  before(async () => {
    standin = await startChitchatStandin({ accessToken: 'the-right-one', timeScale: CLI_TIME_SCALE, rounds: 3 });
  });
  after(async () => {
    await standin.close();
  });

  test('with no --base it solves an in-process stand-in, prints each round and the secret, and exits 0', async () => {
    const { code, output } = await runCli(['--time-scale', String(CLI_TIME_SCALE), '--rounds', '3', '--seed', 'cli']);
    assert.equal(code, 0, output);
    assert.match(output, /started the chit-chat stand-in at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(output.match(/round +\d: .* → answered +\d+ +good!/g)?.length, 3, output);
    assert.match(output, /solved: the secret "[0-9a-f]{24}" was accepted/);
  });

  test('with --base and --access-token it solves that service; a refused access token exits 1 without retrying', async () => {
    const solved = await runCli(['--base', standin.url, '--access-token', 'the-right-one', '--time-scale', String(CLI_TIME_SCALE)]);
    assert.equal(solved.code, 0, solved.output);
    assert.match(solved.output, /solve endpoint answered 200: \{"result":"passed"\}/);

    const refused = await runCli(['--base', standin.url, '--time-scale', String(CLI_TIME_SCALE)], { HACKATTIC_ACCESS_TOKEN: 'a-wrong-one' });
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /attempt 1\/3: problem endpoint answered 401: \{"error":"unknown access_token"\}/);
    assert.doesNotMatch(refused.output, /attempt 2\/3/);
  });

  test('flags of the in-process stand-in are refused with a remote service, not silently ignored', async () => {
    const cases: [string[], string][] = [
      [['--base', standin.url, '--access-token', 'the-right-one', '--rounds', '3'], '--rounds is'],
      [['--access-token', 'x', '--seed', 's', '--jitter-ms', '5'], '--jitter-ms, --seed are'],
    ];
    for (const [args, named] of cases) {
      const refused = await runCli(args);
      assert.equal(refused.code, 2, refused.output);
      assert.equal(refused.output.split('\n')[0], `chitchat: ${named} only for the in-process stand-in (used when neither --base nor --access-token is given)`);
    }
  });

  test('--help exits 0; a bad flag exits 2 with the reason and the usage', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.output, /^Usage: npm run chitchat/);
    const bad = await runCli(['--attempts', 'zero']);
    assert.equal(bad.code, 2);
    assert.match(bad.output, /^chitchat: --attempts must be a whole number from 1 to 100, got "zero"\n\nUsage:/);
    // The same wording as every other program's number flags.
    const slow = await runCli(['--time-scale', '1000']);
    assert.equal(slow.code, 2);
    assert.match(slow.output, /^chitchat: --time-scale must be a number above 0 and at most 100, got "1000"\n/);
  });
});
