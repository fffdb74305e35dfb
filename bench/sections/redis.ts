// Section "redis": our RESP client (lib/redis) against ioredis on the same redis-server in the same run —
// pipelined SET and GET of 16 B and 4 KiB values (batches of 1,000), and the PUBLISH → message round
// trip (one at a time: a latency figure). Each client runs in a child process of its own, the two
// alternating (best of --repeat). Needs redis-server (skipped with a message without it) and ioredis
// (a dev dependency for this section only; ours alone is measured and printed without it).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { redisMissing, startRedis } from '../../test/helpers/redis-server.ts';
import type { BenchOptions } from '../options.ts';
import { byMode } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';

type RedisResult = ChildMessage & { opsPerSecond: number; cpuShare: number; serverCpuShare: number };

const WORKLOADS = [
  { name: 'set16', figure: 'pipelined SET, 16 B values', unit: 'ops/s' },
  { name: 'get16', figure: 'pipelined GET, 16 B values', unit: 'ops/s' },
  { name: 'set4k', figure: 'pipelined SET, 4 KiB values', unit: 'ops/s' },
  { name: 'get4k', figure: 'pipelined GET, 4 KiB values', unit: 'ops/s' },
  { name: 'pubsub', figure: 'PUBLISH → message round trips, one at a time', unit: 'rt/s' },
] as const;

export async function runRedisSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  if (redisMissing) {
    log(`  skipped: ${redisMissing}`);
    return [];
  }
  const hasPeer = ioredisInstalled();
  if (!hasPeer) log('  ioredis is not installed (npm install --save-dev ioredis): measuring ours alone, no ratios');
  const durationMs = byMode(options, { full: 5000, quick: 2000, tiny: 300 });
  const server = await startRedis();
  const rows: Row[] = [];
  try {
    for (const workload of WORKLOADS) {
      const kinds = hasPeer ? (['ours', 'ioredis'] as const) : (['ours'] as const);
      const results = await bestOf(options.repeat, kinds, async (kind) => {
        const serverCpu = new ProcessCpuMeter(server.pid);
        const child = startChild('redis-load', [kind, server.url, workload.name, String(durationMs)]);
        try {
          const result = await child.next<RedisResult>('result');
          result.serverCpuShare = serverCpu.shareOfOneCore();
          log(`  ${workload.name} ${kind}: ${Math.round(result.opsPerSecond)} ${workload.unit}, client CPU ${Math.round(result.cpuShare * 100)}%, redis-server CPU ${Math.round(result.serverCpuShare * 100)}%`);
          return result;
        } finally {
          await child.stop();
        }
      }, (result) => result.opsPerSecond);
      if (!('ioredis' in results)) continue;
      const ours = results.ours;
      const peer = results.ioredis as RedisResult;
      const serverBound = Math.max(ours.serverCpuShare, peer.serverCpuShare) >= GENERATOR_SATURATED;
      rows.push({
        section: 'redis', figure: workload.figure, unit: workload.unit, ours: ours.opsPerSecond, peerName: 'ioredis', peer: peer.opsPerSecond,
        target: { kind: 'at-least', value: 1 },
        note: `client CPU ${pct(ours.cpuShare)} / ${pct(peer.cpuShare)} (${microsecondsPerOperation(ours)} / ${microsecondsPerOperation(peer)} µs per op), redis-server CPU ${pct(ours.serverCpuShare)} / ${pct(peer.serverCpuShare)}` +
          (serverBound ? ' — REDIS-SERVER SATURATED: the ratio understates the faster client' : ''),
      });
    }
  } finally {
    await server.stop();
  }
  return rows;
}

/** Client CPU time per operation: less sensitive than the rate to other work on the machine. */
function microsecondsPerOperation(result: RedisResult): string {
  return (result.cpuShare / result.opsPerSecond * 1e6).toFixed(1);
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function ioredisInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('ioredis');
    return true;
  } catch {
    return false;
  }
}

/** CPU share of another process (redis-server) over an interval, from /proc/<pid>/stat (Linux only; 0 elsewhere). */
class ProcessCpuMeter {
  private readonly startTicks: number;
  private readonly startTime = process.hrtime.bigint();

  constructor(private readonly pid: number) {
    this.startTicks = this.ticks();
  }

  shareOfOneCore(): number {
    const seconds = Number(process.hrtime.bigint() - this.startTime) / 1e9;
    // Linux reports utime and stime in clock ticks of 1/100 s (USER_HZ).
    return (this.ticks() - this.startTicks) / 100 / seconds;
  }

  private ticks(): number {
    try {
      // Fields after the command name (which is in parentheses and may hold spaces): utime is the 12th, stime the 13th.
      const fields = readFileSync(`/proc/${this.pid}/stat`, 'latin1').split(') ')[1].split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return 0;
    }
  }
}
