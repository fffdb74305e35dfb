// Section "scaleout": what sharing through Redis costs and what a second core buys, on the real server
// (`npm start`, day 19's rooms). Needs redis-server (skipped with a message without it).
// - Fan-out: one room of 1,000 clients, split over 2 processes joined by Redis, vs the same clients on one
//   process (the embedded default, no Redis). Deliveries/s and time until every client has every tweet.
// - Cores: the same room on `--workers 2 --redis` vs `--workers 1 --redis` (node:cluster spreads the
//   clients). On a two-core machine the generator and redis-server compete for the same cores: say so.

import { killAllNorthPoles, startNorthPole, type NorthPoleProcess } from '../../test/helpers/north-pole-process.ts';
import { redisServerPid } from '../../test/helpers/redis-pid.ts';
import { redisMissing, startRedis } from '../../test/helpers/redis-server.ts';
import type { BenchOptions } from '../options.ts';
import { byMode } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED, processCpuSeconds } from '../stats.ts';
import type { Row } from '../table.ts';

interface FanoutResult {
  seconds: number;
  cpuShare: number;
  deliveries: number;
  /** CPU time of every serving process (and redis-server when used) per delivery, in µs. */
  serverCpuMicroseconds: number;
}

/** A way to run the server: the processes to start, those doing the work (for CPU time), the ports the clients spread over. */
type Setup = (redisUrl: string, redisPid: number) => Promise<{ servers: NorthPoleProcess[]; working: number[]; ports: number[] }>;

const ONE_PROCESS: Setup = async () => {
  const server = await startNorthPole(['--no-chat']);
  return { servers: [server], working: [server.child.pid!], ports: [server.port] };
};
const TWO_PROCESSES: Setup = async (redisUrl, redisPid) => {
  const servers = await Promise.all([0, 1].map(() => startNorthPole(['--no-chat', '--redis', redisUrl])));
  return { servers, working: [...servers.map((server) => server.child.pid!), redisPid], ports: servers.map((server) => server.port) };
};
const workers = (count: number): Setup => async (redisUrl, redisPid) => {
  const ready = count > 1 ? new RegExp(`${count} workers ready on the same ports \\(pids ([\\d, ]+)\\)`) : undefined;
  const server = await startNorthPole(['--no-chat', '--workers', String(count), '--redis', redisUrl], { ready });
  const pids = ready === undefined ? [server.child.pid!] : ready.exec(server.output())![1]!.split(', ').map(Number);
  return { servers: [server], working: [...pids, redisPid], ports: [server.port] };
};

export async function runScaleoutSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  if (redisMissing) {
    log(`  skipped: ${redisMissing}`);
    return [];
  }
  const clients = byMode(options, { full: 1000, quick: 1000, tiny: 50 });
  const messages = byMode(options, { full: 300, quick: 100, tiny: 10 });
  const redis = await startRedis();
  const redisPid = await redisServerPid(redis.url);
  try {
    const comparisons = [
      { name: 'split', figure: `${clients} clients in one room, split over 2 processes through Redis`, ours: TWO_PROCESSES, peerName: 'one process', peer: ONE_PROCESS },
      { name: 'workers', figure: `${clients} clients in one room, --workers 2 --redis`, ours: workers(2), peerName: '--workers 1 --redis', peer: workers(1) },
    ];
    const rows: Row[] = [];
    for (const comparison of comparisons) {
      const results = await bestOf(options.repeat, ['ours', 'peer'] as const, async (side) => {
        const result = await measure(side === 'ours' ? comparison.ours : comparison.peer, redis.url, redisPid, clients, messages);
        log(`  ${comparison.name} ${side === 'ours' ? 'ours' : comparison.peerName}: ${(result.seconds * 1000).toFixed(0)} ms, ${Math.round(result.deliveries / result.seconds)} deliveries/s, ` +
          `server CPU ${result.serverCpuMicroseconds.toFixed(2)} µs per delivery, generator CPU ${Math.round(result.cpuShare * 100)}%`);
        return result;
      }, (result) => result.deliveries / result.seconds);
      const { ours, peer } = results;
      const saturated = Math.max(ours.cpuShare, peer.cpuShare) >= GENERATOR_SATURATED ? ' — GENERATOR SATURATED' : '';
      const note = `${messages} tweets, one per turn of the sender; generator CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(peer.cpuShare * 100)}%${saturated}; 2 cores shared with the generator and redis-server`;
      rows.push(
        { section: 'scaleout', figure: `${comparison.figure}, deliveries/s`, unit: 'msg/s', ours: ours.deliveries / ours.seconds, peerName: comparison.peerName, peer: peer.deliveries / peer.seconds, note },
        { section: 'scaleout', figure: `${comparison.name}: time until every client has every tweet`, unit: 'ms', ours: ours.seconds * 1000, peerName: comparison.peerName, peer: peer.seconds * 1000, note: 'lower is better' },
        {
          section: 'scaleout', figure: `${comparison.name}: server CPU time per delivery`, unit: 'µs', ours: ours.serverCpuMicroseconds, peerName: comparison.peerName, peer: peer.serverCpuMicroseconds,
          note: 'every serving process, redis-server included where used; lower is better; steadier than the rates on a busy machine',
        },
      );
    }
    return rows;
  } finally {
    killAllNorthPoles();
    await redis.stop();
  }
}

async function measure(setup: Setup, redisUrl: string, redisPid: number, clients: number, messages: number): Promise<FanoutResult> {
  const { servers, working, ports } = await setup(redisUrl, redisPid);
  let generator: ReturnType<typeof startChild> | undefined;
  const cpuSeconds = (): number => working.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  try {
    generator = startChild('scaleout-load', [ports.join(','), String(clients), String(messages)]);
    await generator.next('measuring');
    const cpuBefore = cpuSeconds();
    generator.send({ type: 'go' });
    const result = await generator.next<ChildMessage & Omit<FanoutResult, 'serverCpuMicroseconds'>>('result');
    return { ...result, serverCpuMicroseconds: ((cpuSeconds() - cpuBefore) * 1e6) / result.deliveries };
  } finally {
    await generator?.stop();
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => server.exited));
  }
}

