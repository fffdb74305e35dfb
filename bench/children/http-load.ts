// Child process: HTTP load, with wrk when it is installed (a C program: it saturates long after a Node
// generator does) or autocannon (a dev dependency). Runs here so its CPU time — autocannon's worker threads
// or the wrk process — is measured apart from the orchestrator and the server.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';

interface LoadResult { requestsPerSecond: number; p50: number; p99: number; failures: number; cpuShare: number }
interface LoadOptions { url: string; connections: number; pipelining: number; warmupSeconds: number; durationSeconds: number }

// ── autocannon ────────────────────────────────────────────────────────────────────────────────────

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>, callback: (error: Error | null, result: AutocannonResult) => void) => unknown;

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const run = (duration: number) => new Promise<AutocannonResult>((resolve, reject) => {
    autocannon({ url: options.url, connections: options.connections, pipelining: options.pipelining, duration },
      (error, result) => (error ? reject(error) : resolve(result)));
  });
  if (options.warmupSeconds > 0) await run(options.warmupSeconds);
  const cpu = new CpuMeter();
  const result = await run(options.durationSeconds);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuShare: cpu.shareOfOneCore(),
  };
}

// ── wrk ───────────────────────────────────────────────────────────────────────────────────────────

const PIPELINE_SCRIPT = fileURLToPath(new URL('../wrk-pipeline.lua', import.meta.url));

async function runWrk(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await wrk(options, options.warmupSeconds);
  const before = childrenCpuSeconds();
  const startedAt = process.hrtime.bigint();
  const output = await wrk(options, options.durationSeconds);
  const elapsedSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const cpuShare = (childrenCpuSeconds() - before) / elapsedSeconds;
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  if (!Number.isFinite(requestsPerSecond)) throw new Error(`unexpected wrk output:\n${output}`);
  const nonSuccess = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const failures = nonSuccess + (socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0);
  return { requestsPerSecond, p50: wrkLatency(output, '50%'), p99: wrkLatency(output, '99%'), failures, cpuShare };
}

function wrk(options: LoadOptions, seconds: number): Promise<string> {
  // wrk takes whole seconds only.
  const args = ['-t1', `-c${options.connections}`, `-d${Math.max(1, Math.ceil(seconds))}s`, '--latency', '-s', PIPELINE_SCRIPT, options.url, '--', String(options.pipelining)];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`wrk exited with ${code}:\n${output}`))));
  });
}

/** wrk prints latencies as "50%  1.23ms" (us, ms or s); in milliseconds. */
function wrkLatency(output: string, percentile: string): number {
  const match = new RegExp(`${percentile}\\s+([\\d.]+)(us|ms|s)`).exec(output);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** CPU seconds of this process's finished children (Linux /proc: cutime + cstime, in clock ticks of 1/100 s). */
function childrenCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After the ") " the fields start at field 3 (state); cutime and cstime are fields 16 and 17.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return Number.NaN;
  }
}

runChild(async () => {
  const [generator, url, connections, pipelining, warmupSeconds, durationSeconds] = process.argv.slice(2);
  const options = { url, connections: Number(connections), pipelining: Number(pipelining), warmupSeconds: Number(warmupSeconds), durationSeconds: Number(durationSeconds) };
  const result = generator === 'wrk' ? await runWrk(options) : await runAutocannon(options);
  report({ type: 'result', ...result });
});
