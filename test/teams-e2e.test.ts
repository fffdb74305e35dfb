// The team manager against the stand-in over loopback, with every fault switched on: every healthcheck
// must match the truth, goodbye must end the run with exit code 0 and no socket left open on either side.
// Plus the command line, and a server that stops answering pings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptWebSocket, type WebSocketConnection } from '../lib/websocket/index.ts';
import { runTeamManager, type TeamManagerRun } from '../clients/teams/runtime.ts';
import { FAULT_NAMES } from '../servers/teams-standin/faults.ts';
import { startTeamsStandin, type Summary, type TeamsStandinOptions } from '../servers/teams-standin/standin.ts';
import { runProgram } from './helpers/program.ts';
import { until } from './helpers/wait.ts';

interface Outcome {
  exitCode: number;
  summary: Summary;
  standinLines: string[];
  clientLines: string[];
  clientSocketsAfter: number;
}

/** One full run: stand-in and manager in this process, both closed whatever happens. */
async function runAgainstStandin(options: TeamsStandinOptions, timeoutMs: number): Promise<Outcome> {
  const standinLines: string[] = [];
  const clientLines: string[] = [];
  const standin = await startTeamsStandin({ quietPointTimeoutMs: 5_000, goodbyeGraceMs: 3_000, ...options, log: (line) => standinLines.push(line) });
  let run: TeamManagerRun | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    run = runTeamManager({
      globalUrl: standin.globalUrl,
      pingIntervalMs: 100,
      pongTimeoutMs: 300,
      answerTimeoutMs: 1_000,
      backoff: { baseMs: 50, maxMs: 500 },
      log: (level, text) => clientLines.push(`${level} ${text}`),
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`run did not finish within ${timeoutMs} ms\n${standinLines.join('\n')}`)), timeoutMs);
    });
    const exitCode = await Promise.race([run.done, timedOut]);
    const summary = await Promise.race([standin.done, timedOut]);
    return { exitCode, summary, standinLines, clientLines, clientSocketsAfter: run.openSockets() };
  } finally {
    clearTimeout(timer);
    run?.stop('test over');
    await standin.close();
  }
}

function assertCleanRun(outcome: Outcome, expectedHealthchecks: number): void {
  const context = outcome.standinLines.join('\n');
  assert.equal(outcome.summary.mismatches, 0, context);
  assert.equal(outcome.summary.healthchecks, expectedHealthchecks, context);
  assert.ok(outcome.standinLines.filter((line) => / match — /.test(line)).length === expectedHealthchecks, context);
  assert.equal(outcome.summary.finished, true);
  assert.equal(outcome.summary.openSockets, 0, 'the client closed every socket after goodbye');
  assert.equal(outcome.clientSocketsAfter, 0, 'the client holds no socket once done');
  assert.equal(outcome.exitCode, 0);
  assert.ok(outcome.summary.messages > 0 && outcome.summary.props > 0);
}

test('every healthcheck matches the truth under every fault, over several seeds', async () => {
  const seeds = [1, 2, 3, 4];
  const outcomes = await Promise.all(seeds.map((seed) => runAgainstStandin({ teams: 25, seed, durationMs: 20_000, timeScale: 20, healthchecks: 4, faults: 'all' }, 25_000)));
  for (const outcome of outcomes) assertCleanRun(outcome, 5);
  for (const fault of FAULT_NAMES) {
    assert.ok(outcomes.some((outcome) => outcome.summary.faults[fault] > 0), `fault ${fault} was injected at least once`);
  }
  const clientLog = outcomes.flatMap((outcome) => outcome.clientLines);
  assert.ok(clientLog.some((line) => /404/.test(line)), 'refused URLs were seen');
  assert.ok(clientLog.some((line) => /global connection closed \(1006\)/.test(line)), 'the Global connection was reconnected');
});

test('200 teams at once, with every fault', async () => {
  const outcome = await runAgainstStandin({ teams: 200, seed: 7, durationMs: 20_000, timeScale: 10, healthchecks: 4, faults: 'all' }, 25_000);
  assertCleanRun(outcome, 5);
  assert.equal(outcome.summary.teams, 200);
});

test('without faults nothing is lost once a team is connected, and nothing is in doubt', async () => {
  const outcome = await runAgainstStandin({ teams: 10, seed: 3, durationMs: 10_000, timeScale: 20, healthchecks: 2, faults: 'none' }, 15_000);
  assertCleanRun(outcome, 3);
  assert.equal(outcome.summary.inDoubt, 0);
  assert.ok(outcome.clientLines.every((line) => !line.startsWith('warn') && !line.startsWith('error')), outcome.clientLines.join('\n'));
});

/** A Global/Team server that answers team.connect but never answers a ping on the team connection. */
async function startDeafServer(): Promise<{ server: Server; url: string; teamConnections: () => number; sockets: Set<WebSocketConnection> }> {
  const server = createServer();
  const sockets = new Set<WebSocketConnection>();
  let teamConnections = 0;
  server.on('upgrade', (request, socket, head) => {
    const connection = acceptWebSocket(request, socket, head);
    if (connection === undefined) return;
    sockets.add(connection);
    connection.once('close', () => sockets.delete(connection));
    if (request.url !== '/global') {
      teamConnections++;
      connection.send(JSON.stringify({ type: 'message', text: 'props, then silence' }));
      return;
    }
    connection.send(JSON.stringify({ type: 'team.join', team_id: 1 }));
    connection.on('message', (data) => {
      const port = (server.address() as AddressInfo).port;
      if (JSON.parse(data.toString()).type === 'team.connect') connection.send(JSON.stringify({ type: 'team.connect', team_id: 1, ws_url: `http://127.0.0.1:${port}/team/1` }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/global`, teamConnections: () => teamConnections, sockets };
}

test('a team connection that stops answering pings is cut and reconnected; a stop leaves nothing open', async () => {
  const deaf = await startDeafServer();
  const run = runTeamManager({ globalUrl: deaf.url, pingIntervalMs: 50, pongTimeoutMs: 100, backoff: { baseMs: 20, maxMs: 100 } });
  try {
    await until(() => deaf.teamConnections() >= 3, 5_000, 'two reconnections of the silent team');
    assert.ok(run.stats()[0]!.message_count >= 2, 'counts carry over across reconnections');
    run.stop('test over');
    assert.equal(await run.done, 0);
    assert.equal(run.openSockets(), 0);
    await until(() => deaf.sockets.size === 0, 5_000, 'the server to see every socket closed');
  } finally {
    run.stop('test over');
    for (const socket of deaf.sockets) socket.terminate();
    deaf.server.close();
  }
});

test('npm run teams: the command line runs against an in-process stand-in and exits 0 after goodbye', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'clients/teams/main.ts', '--teams', '8', '--duration', '8', '--time-scale', '20', '--faults', 'all', '--ping-interval', '200', '--pong-timeout', '400', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  try {
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, output);
    assert.match(output, /summary: teams=8 messages=\d+ props=\d+ healthchecks=5 mismatches=0 .*open-sockets=0/);
  } finally {
    clearTimeout(timer);
    child.kill('SIGKILL');
  }
});

test('npm run teams -- --help explains itself; a bad option is a usage error', async () => {
  const help = spawn(process.execPath, ['--import', 'tsx', 'clients/teams/main.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  help.stdout.on('data', (chunk) => (text += chunk));
  const [helpCode] = await once(help, 'exit');
  assert.equal(helpCode, 0);
  assert.match(text, /--url URL/);
  const bad = spawn(process.execPath, ['--import', 'tsx', 'clients/teams/main.ts', '--url', 'ftp://nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  bad.stderr.on('data', (chunk) => (errors += chunk));
  const [badCode] = await once(bad, 'exit');
  assert.equal(badCode, 2);
  assert.match(errors, /--url must be a ws:\/\//);
});

test('npm run teams -- --url …: flags of the in-process stand-in are refused, not silently ignored', async () => {
  for (const [flags, named] of [[['--teams', '5'], '--teams'], [['--seed', '2', '--faults', 'none'], '--seed, --faults'], [['--duration', '5', '--time-scale', '10'], '--duration, --time-scale']] as const) {
    const refused = runProgram('clients/teams/main.ts', ['--url', 'ws://127.0.0.1:9/global', ...flags]);
    assert.equal(await refused.exited, 2, refused.stderr());
    assert.equal(refused.stderr().split('\n')[0], `teams: ${named} ${named.includes(',') ? 'are' : 'is'} only for the in-process stand-in (used when no --url is given)`);
  }
});
