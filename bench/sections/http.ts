// Section "http": the raw HTTP/1.1 server vs node:http (Hello World, 50 connections, with and without
// 10-deep pipelining), the router's own cost on node:http, and GET /19/views on the day-19 routes.
// Load from wrk when it is installed (`apt-get install wrk`), otherwise from autocannon.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from '../options.ts';
import { byMode, serverFlags } from '../options.ts';
import { startChild, type ChildMessage } from '../processes.ts';
import { bestOf } from '../repeat.ts';
import { GENERATOR_SATURATED } from '../stats.ts';
import type { Row, Target } from '../table.ts';

const CONNECTIONS = 50;
type HttpResult = ChildMessage & { requestsPerSecond: number; p50: number; p99: number; failures: number; cpuShare: number };

export async function runHttpSection(options: BenchOptions, log: (line: string) => void): Promise<Row[]> {
  const hasDay19 = existsSync(fileURLToPath(new URL('../../servers/cch19/routes.ts', import.meta.url)));
  const generator = hasWrk() ? 'wrk' : 'autocannon';
  log(`  load generator: ${generator}${generator === 'autocannon' ? ' (wrk not installed: autocannon saturates first, see the CPU notes)' : ''}`);
  const paths: Record<string, string> = { cch19: '/19/views' };
  /** Best of `options.repeat` alternating runs of the servers of one comparison, at one pipelining depth. */
  async function measureKinds<Kind extends string>(kinds: readonly Kind[], pipelining: number): Promise<Record<Kind, HttpResult>> {
    return bestOf(options.repeat, kinds, async (kind) => {
      const result = await measureHttp(generator, kind, pipelining, paths[kind] ?? '/', options);
      log(`  ${kind} -p ${pipelining}: ${Math.round(result.requestsPerSecond)} req/s, ${generator} CPU ${Math.round(result.cpuShare * 100)}%${result.failures ? `, ${result.failures} failures` : ''}`);
      return result;
    }, (result) => result.requestsPerSecond);
  }

  const rows: Row[] = [];
  for (const pipelining of [1, 10]) {
    const kinds = ['raw', 'node', 'router-node', ...(pipelining === 1 ? ['router-raw'] : []), ...(hasDay19 ? ['cch19'] : [])];
    const results = await measureKinds(kinds, pipelining);
    const target: Target = { kind: 'at-least', value: pipelining === 1 ? 1.6 : 3 };
    const row = (figure: string, ours: HttpResult, peer: HttpResult, peerName: string, rowTarget: Target | undefined) =>
      compare(generator, figure, ours, peer, peerName, rowTarget);
    rows.push(row(`Hello World -c ${CONNECTIONS} -p ${pipelining}: raw server vs node:http`, results.raw, results.node, 'node:http', target));
    rows.push(row(`router cost on node:http -p ${pipelining} (router vs bare handler)`, results['router-node'], results.node, 'bare node:http', { kind: 'at-least', value: 0.95 }));
    if (results['router-raw']) rows.push(row(`router cost on the raw server -p ${pipelining} (router vs bare handler)`, results['router-raw'], results.raw, 'bare raw', undefined));
    if (results.cch19) rows.push(row(`GET /19/views -p ${pipelining}: day-19 routes on the raw server vs bare node:http hello`, results.cch19, results.node, 'node:http hello', undefined));
  }
  if (!hasDay19) log('  servers/cch19 not found: GET /19/views skipped');
  return rows;
}

function hasWrk(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

function compare(generator: string, figure: string, ours: HttpResult, peer: HttpResult, peerName: string, target: Target | undefined): Row {
  const saturated = Math.max(ours.cpuShare, peer.cpuShare) >= GENERATOR_SATURATED;
  return {
    section: 'http', figure, unit: 'req/s', ours: ours.requestsPerSecond, peerName, peer: peer.requestsPerSecond, target,
    note: `p99 ${ours.p99} / ${peer.p99} ms; ${generator} CPU ${Math.round(ours.cpuShare * 100)}% / ${Math.round(peer.cpuShare * 100)}%` +
      `${saturated ? ' — GENERATOR SATURATED: the ratio is a lower bound for the faster side' : ''}` +
      `${ours.failures + peer.failures > 0 ? `; FAILURES ${ours.failures} / ${peer.failures}` : ''}`,
  };
}

async function measureHttp(generatorName: string, kind: string, pipelining: number, path: string, options: BenchOptions): Promise<HttpResult> {
  const server = startChild('http-server', [kind], { nodeFlags: serverFlags(options, `http-${kind}-p${pipelining}`) });
  let generator: ReturnType<typeof startChild> | undefined;
  try {
    const { port } = await server.next<ChildMessage & { port: number }>('ready');
    const warmup = byMode(options, { full: 1, quick: 0, tiny: 0 });
    const duration = byMode(options, { full: 5, quick: 2, tiny: 1 });
    generator = startChild('http-load', [generatorName, `http://127.0.0.1:${port}${path}`, CONNECTIONS, pipelining, warmup, duration].map(String));
    return await generator.next<HttpResult>('result');
  } finally {
    await Promise.all([server.stop(), generator?.stop()]);
  }
}
