// Section "scaleout": what sharing through Redis costs and what a second core buys, on the real server
// (`npm start`, day 19's rooms). Needs redis-server (skipped with a message without it).
// - Fan-out: one room of 1,000 clients, split over 2 processes joined by Redis, vs the same clients on one
//   process (the embedded default, no Redis). Deliveries/s and time until every client has every tweet.
// - Cores: the same room on `--workers 2 --redis` vs `--workers 1 --redis` (node:cluster spreads the
//   clients). On a two-core machine the generator and redis-server compete for the same cores: say so.

import { killAllNorthPoles, startNorthPole, type NorthPoleProcess } from '../../test/helpers/north-pole-process.ts';
import { redisMissing, startRedis } from '../../test/helpers/redis-server.ts';
import type { BenchOptions } from '../options.ts';
import { byMode } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row } from '../table.ts';

interface FanoutResult { seconds: number; cpuShare: number; deliveries: number }

/** A way to run the server: the processes to start and the ports the clients spread over. */
type Setup = (redisUrl: string) => Promise<{ servers: NorthPoleProcess[]; ports: number[] }>;

const ONE_PROCESS: Setup = async () => {
  const server = await startNorthPole(['--no-chat']);
  return { servers: [server], ports: [server.port] };
};
const TWO_PROCESSES: Setup = async (redisUrl) => {
  const servers = await Promise.all([0, 1].map(() => startNorthPole(['--no-chat', '--redis', redisUrl])));
  return { servers, ports: servers.map((server) => server.port) };
};
const workers = (count: number): Setup => async (redisUrl) => {
  const ready = count > 1 ? new RegExp(`${count} workers ready`) : undefined;
  const server = await startNorthPole(['--no-chat', '--workers', String(count), '--redis', redisUrl], { ready });
  return { servers: [server], ports: [server.port] };
};

export async function runScaleoutSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  if (redisMissing) {
    log(`  skipped: ${redisMissing}`);
    return [];
  }
  const clients = byMode(options, { full: 1000, quick: 1000, tiny: 50 });
  const messages = byMode(options, { full: 300, quick: 100, tiny: 10 });
  const redis = await startRedis();
  try {
    const comparisons = [
      { name: 'split', figure: `${clients} clients in one room, split over 2 processes through Redis`, ours: TWO_PROCESSES, peerName: 'one process', peer: ONE_PROCESS },
      { name: 'workers', figure: `${clients} clients in one room, --workers 2 --redis`, ours: workers(2), peerName: '--workers 1 --redis', peer: workers(1) },
    ];
    const rows: Row[] = [];
    for (const comparison of comparisons) {
      const results = await bestOf(options.repeat, ['ours', 'peer'] as const, async (side) => {
        const result = await measure(side === 'ours' ? comparison.ours : comparison.peer, redis.url, clients, messages);
        log(`  ${comparison.name} ${side === 'ours' ? 'ours' : comparison.peerName}: ${(result.seconds * 1000).toFixed(0)} ms, ${Math.round(result.deliveries / result.seconds)} deliveries/s, generator CPU ${Math.round(result.cpuShare * 100)}%`);
        return result;
      }, (result) => result.deliveries / result.seconds);
      const { ours, peer } = results;
      const saturated = Math.max(ours.cpuShare, peer.cpuShare) >= GENERATOR_SATURATED ? ' — GENERATOR SATURATED' : '';
      const note = `${messages} tweets, one per turn of the sender; generator CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(peer.cpuShare * 100)}%${saturated}; 2 cores shared with the generator and redis-server`;
      rows.push(
        { section: 'scaleout', figure: `${comparison.figure}, deliveries/s`, unit: 'msg/s', ours: ours.deliveries / ours.seconds, peerName: comparison.peerName, peer: peer.deliveries / peer.seconds, note },
        { section: 'scaleout', figure: `${comparison.name}: time until every client has every tweet`, unit: 'ms', ours: ours.seconds * 1000, peerName: comparison.peerName, peer: peer.seconds * 1000, note: 'lower is better' },
      );
    }
    return rows;
  } finally {
    killAllNorthPoles();
    await redis.stop();
  }
}

async function measure(setup: Setup, redisUrl: string, clients: number, messages: number): Promise<FanoutResult> {
  const { servers, ports } = await setup(redisUrl);
  let generator: ReturnType<typeof startChild> | undefined;
  try {
    generator = startChild('scaleout-load', [ports.join(','), String(clients), String(messages)]);
    return await generator.next<ChildMessage & FanoutResult>('result');
  } finally {
    await generator?.stop();
    for (const server of servers) server.child.kill('SIGTERM');
    await Promise.all(servers.map((server) => server.exited));
  }
}
