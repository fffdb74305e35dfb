// View counts across restarts: the data file's format and atomic save, a restart that keeps the
// counts, and corrupt files refused without a byte changed — by the API and by the command line.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runPoparazziClient } from '../clients/poparazzi/client.ts';
import { runProgram } from './helpers/program.ts';
import { DataFileError, loadViewCounts, saveViewCounts } from '../servers/poparazzi/data-file.ts';
import { startPoparazzi } from '../servers/poparazzi/server.ts';

const WAIT_MS = 10_000;
const POST_A = 'f7e71599-70df-4918-a882-dd3c1d53070e';
const POST_B = '8a213848-5156-4b82-88b6-294aa2d80974';
const MAIN = join(import.meta.dirname, '..', 'servers', 'poparazzi', 'main.ts');

const CORRUPT_FILES: [string, string][] = [
  ['truncated JSON', '{"version":1,"views":{"f7e71599-70df-4918-a882-dd3c1d53070e":4'],
  ['wrong version', '{"version":2,"views":{}}'],
  ['a key that is not a UUID', '{"version":1,"views":{"post-1":4}}'],
  ['a negative count', `{"version":1,"views":{"${POST_A}":-4}}`],
  ['an array', '[]'],
];

/** Wait until `condition` holds, checking on each turn of a short interval, for at most `ms`. */
async function waitFor(condition: () => Promise<boolean> | boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The host:port the server prints once it listens, read from its stdout as it arrives. */
function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${WAIT_MS} ms: ${stdout}`)), WAIT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /ws:\/\/(127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before listening`));
    });
  });
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return code as number | null;
}

describe('Poparazzi data file', () => {
  let directory: string;
  const children: ChildProcess[] = [];

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'poparazzi-'));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
  });

  test('save then load gives the same counts, and leaves no temporary file', async () => {
    const path = join(directory, 'roundtrip.json');
    await saveViewCounts(path, new Map([[POST_A, 3], [POST_B, 0]]));
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { version: 1, views: { [POST_A]: 3, [POST_B]: 0 } });
    assert.deepEqual([...loadViewCounts(path)], [[POST_A, 3], [POST_B, 0]]);
    assert.deepEqual((await readdir(directory)).filter((name) => name.includes('roundtrip')), ['roundtrip.json']);
  });

  test('a missing file is a first start with no counts', () => {
    assert.equal(loadViewCounts(join(directory, 'absent.json')).size, 0);
  });

  for (const [problem, contents] of CORRUPT_FILES) {
    test(`a file with ${problem} is refused with a clear error and left untouched`, async () => {
      const path = join(directory, `corrupt-${problem.replaceAll(' ', '-')}.json`);
      await writeFile(path, contents);
      assert.throws(() => loadViewCounts(path), (error: unknown) => error instanceof DataFileError && error.message.includes(path) && /refusing to start/.test(error.message));
      await assert.rejects(startPoparazzi({ dataFile: path }), DataFileError);
      assert.equal(await readFile(path, 'utf8'), contents);
    });
  }

  test('counts survive a restart, and are saved on the interval without waiting for shutdown', async () => {
    const path = join(directory, 'restart.json');
    const first = await startPoparazzi({ dataFile: path, saveIntervalMs: 50 });
    try {
      const result = await runPoparazziClient({ url: first.url, viewCounts: { [POST_A.toUpperCase()]: 1, [POST_B]: 2 }, timeoutMs: WAIT_MS });
      assert.equal(result.ok, true, result.failure);
      await waitFor(() => existsSync(path), 'the interval save');
      assert.deepEqual(loadViewCounts(path).get(POST_A), 1);
      const second = await runPoparazziClient({ url: first.url, viewCounts: { [POST_A]: 1 }, timeoutMs: WAIT_MS });
      assert.equal(second.ok, true, second.failure);
    } finally {
      await first.close();
    }
    const restarted = await startPoparazzi({ dataFile: path });
    try {
      assert.equal(restarted.ledger.viewsOf(POST_A), 2);
      const response = await fetch(`${restarted.url}/posts/${POST_B}/views`);
      assert.deepEqual(await response.json(), { post_id: POST_B, views: 1 });
    } finally {
      await restarted.close();
    }
  });

  test('the command line refuses a corrupt file: exit 1, the reason on stderr, the bytes unchanged', async () => {
    const path = join(directory, 'cli-corrupt.json');
    const contents = '{"version":1,"views":{"f7e71599-70df-4918-a882-dd3c1d53070e":4';
    await writeFile(path, contents);
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', '--data', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    assert.equal(await exitOf(child), 1);
    assert.match(stderr, /data file .*cli-corrupt\.json: is not valid JSON .*refusing to start/);
    assert.equal(await readFile(path, 'utf8'), contents);
  });

  test('the command line saves the counts on SIGTERM', async () => {
    const path = join(directory, 'cli-sigterm.json');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', '--data', path, '--save-interval', '600000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const url = await listeningAddress(child);
    const result = await runPoparazziClient({ url: `http://${url}`, viewCounts: { [POST_B]: 1 }, timeoutMs: WAIT_MS });
    assert.equal(result.ok, true, result.failure);
    assert.equal(existsSync(path), false, 'nothing saved yet with a long interval');
    child.kill('SIGTERM');
    assert.equal(await exitOf(child), 0);
    assert.equal(loadViewCounts(path).get(POST_B), 1);
  });

  test('a data file in a folder that does not exist is refused at start: exit 1, one line', async () => {
    const path = join(directory, 'no-such-folder', 'views.json');
    assert.throws(() => loadViewCounts(path), (error: unknown) => error instanceof DataFileError && /folder .*no-such-folder does not exist/.test(error.message));
    const running = runProgram('servers/poparazzi/main.ts', ['--port', '0', '--data', path]);
    assert.equal(await running.exited, 1);
    assert.equal(running.stderr(), `poparazzi: data file ${path}: its folder ${join(directory, 'no-such-folder')} does not exist; refusing to start, as every save would fail (create the folder or choose another path)\n`);
    assert.equal(existsSync(join(directory, 'no-such-folder')), false);
  });

  test('a final save that fails on SIGTERM exits 1 and says the counts were not saved', async () => {
    const folder = join(directory, 'vanishing');
    await mkdir(folder);
    const path = join(folder, 'views.json');
    const running = runProgram('servers/poparazzi/main.ts', ['--port', '0', '--data', path, '--save-interval', '600000']);
    const banner = await running.printed(/ws:\/\/127\.0\.0\.1:\d+/);
    const url = /ws:\/\/(127\.0\.0\.1:\d+)/.exec(banner)![1];
    const result = await runPoparazziClient({ url: `http://${url}`, viewCounts: { [POST_B]: 1 }, timeoutMs: WAIT_MS });
    assert.equal(result.ok, true, result.failure);
    await rm(folder, { recursive: true });
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 1);
    assert.match(running.stderr(), new RegExp(`poparazzi: shutdown failed: view counts not saved to ${path.replaceAll('.', '\\.')}: ENOENT`));
  });
});
