// Child process: one Redis client library under load against a running redis-server — ours
// (lib/redis) or ioredis — for the "redis" section. Workloads:
//   set16, get16, set4k, get4k: pipelined batches of BATCH commands, as many batches as fit the time;
//   pubsub: PUBLISH on one connection, wait for the message on a subscriber connection, repeat.
// Reports operations (or round trips) per second and this process's CPU share.

import { performance } from 'node:perf_hooks';
import { createRedisClient, createRedisSubscriber } from '../../lib/redis/index.ts';
import { report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';

const BATCH = 1000;
const KEYS = 1000;

/** The few operations a workload needs, on either library. */
interface Contender {
  /** Send `BATCH` commands as one pipeline and wait for all their replies. */
  pipeline(command: 'SET' | 'GET', keys: string[], value: string): Promise<void>;
  /** PUBLISH `payload` on `channel` and resolve when the subscriber has received it. */
  roundTrip(channel: string, payload: string): Promise<void>;
  subscribe(channel: string): Promise<void>;
  close(): Promise<void>;
}

async function ours(url: string): Promise<Contender> {
  const client = createRedisClient(url);
  const subscriber = createRedisSubscriber(url);
  let delivered: (() => void) | undefined;
  subscriber.on('message', () => delivered?.());
  return {
    async pipeline(command, keys, value) {
      const replies = new Array<Promise<unknown>>(keys.length);
      for (let index = 0; index < keys.length; index++) replies[index] = command === 'SET' ? client.send(['SET', keys[index], value]) : client.send(['GET', keys[index]]);
      await Promise.all(replies);
    },
    roundTrip(channel, payload) {
      const received = new Promise<void>((resolve) => { delivered = resolve; });
      void client.send(['PUBLISH', channel, payload]);
      return received;
    },
    subscribe: (channel) => subscriber.subscribe(channel),
    async close() {
      await Promise.all([client.quit(), subscriber.quit()]);
    },
  };
}

/** ioredis at its fastest for each job: explicit pipeline(), getBuffer (bytes, as ours returns), messageBuffer. */
async function ioredis(url: string): Promise<Contender> {
  // Imported by name at run time: ioredis is a dev dependency of the bench only, and may be absent.
  const moduleName = 'ioredis';
  const { default: Redis } = (await import(moduleName)) as { default: any };
  const client = new Redis(url);
  const subscriber = new Redis(url);
  let delivered: (() => void) | undefined;
  subscriber.on('messageBuffer', () => delivered?.());
  return {
    async pipeline(command, keys, value) {
      const pipeline = client.pipeline();
      for (const key of keys) {
        if (command === 'SET') pipeline.set(key, value);
        else pipeline.getBuffer(key);
      }
      await pipeline.exec();
    },
    roundTrip(channel, payload) {
      const received = new Promise<void>((resolve) => { delivered = resolve; });
      void client.publish(channel, payload);
      return received;
    },
    subscribe: (channel) => subscriber.subscribe(channel),
    async close() {
      await Promise.all([client.quit(), subscriber.quit()]);
    },
  };
}

runChild(async () => {
  const [kind, url, workload, durationText] = process.argv.slice(2, 6);
  const durationMs = Number(durationText);
  const contender = kind === 'ioredis' ? await ioredis(url) : await ours(url);
  const keys = Array.from({ length: BATCH }, (_, index) => `bench:${kind}:${index % KEYS}`);
  const value = 'v'.repeat(workload.endsWith('4k') ? 4096 : 16);
  const channel = `bench:${kind}:channel`;

  let step: () => Promise<number>;
  if (workload === 'pubsub') {
    await contender.subscribe(channel);
    const payload = 'a small message!';
    step = async () => { await contender.roundTrip(channel, payload); return 1; };
  } else {
    const command = workload.startsWith('set') ? 'SET' : 'GET';
    if (command === 'GET') await contender.pipeline('SET', keys, value);
    step = async () => { await contender.pipeline(command, keys, value); return BATCH; };
  }

  // Warm up (JIT, connection), then measure.
  const warmUntil = performance.now() + Math.min(500, durationMs / 4);
  while (performance.now() < warmUntil) await step();
  const cpu = new CpuMeter();
  const startedAt = performance.now();
  let operations = 0;
  while (performance.now() - startedAt < durationMs) operations += await step();
  const seconds = (performance.now() - startedAt) / 1000;
  report({ type: 'result', opsPerSecond: operations / seconds, cpuShare: cpu.shareOfOneCore() });
  await contender.close();
});
