// The Poparazzi demo client: its conversation script on its own (no socket), and its command line
// (help, bad arguments, a full run against a server started in-process on port 0).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Conversation } from '../clients/poparazzi/conversation.ts';
import { startPoparazzi, type RunningPoparazzi } from '../servers/poparazzi/server.ts';

const WAIT_MS = 10_000;
const MAIN = join(import.meta.dirname, '..', 'clients', 'poparazzi', 'main.ts');
const POST = 'f7e71599-70df-4918-a882-dd3c1d53070e';

/** Run the client CLI to completion (killed if it outlives WAIT_MS); resolves with its exit code and output. */
async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
  try {
    const [code] = await once(child, 'exit');
    return { code: code as number | null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

describe('Poparazzi client conversation', () => {
  const plan = { token: 't-1', state: { active_group_id: null, is_typing: null }, viewCounts: { [POST]: 2 } };

  test('authorization, then state after authenticated:true, then views after the echo, then done', () => {
    const conversation = new Conversation(plan);
    assert.deepEqual(conversation.start(), { authorization: 'Bearer t-1' });
    assert.deepEqual(conversation.receive({ authenticated: true }), { type: 'send', messages: [{ state: plan.state }] });
    assert.deepEqual(conversation.receive({ state: { user_id: 'u', active_group_id: null, is_typing: false } }),
      { type: 'send', messages: [{ view_counts: plan.viewCounts }] });
    assert.deepEqual(conversation.receive({ view_counts: true }), { type: 'done' });
    assert.equal(conversation.finished, true);
  });

  test('a refusal or a server error ends the conversation as a failure', () => {
    assert.equal(new Conversation(plan).receive({ authenticated: false }).type, 'failed');
    const conversation = new Conversation(plan);
    conversation.receive({ authenticated: true });
    const step = conversation.receive({ error: { code: 'invalid_state', message: 'state must be an object' } });
    assert.equal(step.type, 'failed');
    assert.match((step as { reason: string }).reason, /invalid_state/);
  });
});

describe('Poparazzi client command line', () => {
  let server: RunningPoparazzi;
  before(async () => { server = await startPoparazzi(); });
  after(async () => { await server.close(); });

  test('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: npm run poparazzi-client/);
  });

  test('a bad argument exits 2 with the reason', async () => {
    const { code, stderr } = await runCli(['--timeout', 'soon']);
    assert.equal(code, 2);
    assert.match(stderr, /--timeout must be a positive whole number/);
  });

  test('a full run prints both directions and exits 0; the view is counted once', async () => {
    const { code, stdout, stderr } = await runCli(['--url', server.url, '--view', `${POST.toUpperCase()}=3`, '--group', 'g1', '--typing']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /← \{"authenticated":true\}/);
    assert.match(stdout, /← \{"state":\{"user_id":"[0-9a-f-]{36}","active_group_id":"g1","is_typing":true\}\}/);
    assert.match(stdout, /← \{"view_counts":true\}/);
    assert.equal(server.ledger.viewsOf(POST), 1);
  });

  test('a server that is not there is a clear error and exit 1', async () => {
    const { code, stderr } = await runCli(['--url', 'http://127.0.0.1:1', '--timeout', '2000']);
    assert.equal(code, 1);
    assert.match(stderr, /poparazzi-client: .*(ECONNREFUSED|connect)/);
  });
});
