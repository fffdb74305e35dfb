// Smoke test of `npm run bench`: a tiny run of two sections must finish and produce a table with numbers.
// It checks the harness (child processes, generators, table), never the speed.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseOptions } from '../bench/options.ts';
import { formatTable } from '../bench/table.ts';
import assert from 'node:assert/strict';

const directory = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
after(() => rmSync(directory, { recursive: true, force: true }));

/** Run the bench with `args`; resolves with exit code and output, kills it after `timeoutMs`. */
function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

test('a tiny bench run prints and writes a table of numbers', { timeout: 60_000 }, async () => {
  const output = join(directory, 'latest.md');
  const run = await runBench(['--tiny', '--only', 'codec,handshakes', '--output', output], 55_000);
  assert.equal(run.code, 0, run.output);
  const written = readFileSync(output, 'utf8');
  assert.match(written, /^handrolled bench — .* cores .*Node v\d+/);
  const rows = written.split('\n').filter((line) => line.startsWith('| codec') || line.startsWith('| handshakes'));
  assert.ok(rows.some((line) => line.startsWith('| codec')), 'a codec row');
  assert.ok(rows.some((line) => line.startsWith('| handshakes')), 'a handshakes row');
  for (const row of rows) {
    const [, , , ours, peer, ratio] = row.split('|').map((cell) => cell.trim());
    assert.match(ours, /^[\d,.]+$/, `ours is a number in: ${row}`);
    assert.match(peer, /^[\d,.]+ /, `peer is a number in: ${row}`);
    assert.match(ratio, /^[\d,.]+×$/, `ratio is a number in: ${row}`);
  }
  assert.ok(run.output.includes(written.split('\n')[3]), 'the table is printed too');
});

test('--help explains the options and an unknown section is refused', { timeout: 30_000 }, async () => {
  const help = await runBench(['--help'], 25_000);
  assert.equal(help.code, 0);
  assert.match(help.output, /--only/);
  const wrong = await runBench(['--only', 'nonsense'], 25_000);
  assert.equal(wrong.code, 2);
  assert.match(wrong.output, /unknown section nonsense/);
});

test('--quick and --tiny keep the full run\'s table unless --output is given', () => {
  for (const mode of ['--quick', '--tiny']) {
    const options = parseOptions([mode]);
    assert.ok(!('error' in options) && !('help' in options));
    assert.equal(options.output, undefined, `${mode} must not write bench/results/latest.md`);
    const kept = parseOptions([mode, '--output', '/tmp/quick.md']);
    assert.ok(!('error' in kept) && !('help' in kept));
    assert.equal(kept.output, '/tmp/quick.md');
  }
  const full = parseOptions([]);
  assert.ok(!('error' in full) && !('help' in full));
  assert.equal(full.output, 'bench/results/latest.md');
});

test('a ratio without a peer figure reads "n/a", never "n/a×"', () => {
  const row = { section: 's', figure: 'f', unit: 'handshakes/s', ours: 5, peerName: 'ws', peer: 0, target: { kind: 'at-least' as const, value: 1 } };
  const line = formatTable([row]).split('\n')[2];
  assert.ok(!line.includes('n/a×'), line);
  assert.match(line, /\| n\/a \|/);
  assert.match(line, /\(handshakes\/s\)/);
});
