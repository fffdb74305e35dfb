// Small statistics for the benchmark: medians of A/B rounds, latency percentiles and CPU share of one process.

import { readFileSync } from 'node:fs';

/** The middle value (the upper one of the two middles for an even count): how the A/B tools summarise rounds. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** The p-th percentile (0–100) of `samples`, which is sorted in place. */
export function percentile(samples: Float64Array, p: number): number {
  if (samples.length === 0) return Number.NaN;
  samples.sort();
  const index = Math.min(samples.length - 1, Math.max(0, Math.ceil((p / 100) * samples.length) - 1));
  return samples[index];
}

/**
 * Latency samples in a preallocated array: a run of millions of round trips keeps the first `capacity`
 * and then every n-th, so memory stays bounded and the sample stays spread over the whole run.
 */
export class LatencySamples {
  private readonly samples: Float64Array;
  private count = 0;
  private seen = 0;
  private stride = 1;

  constructor(capacity = 500_000) {
    this.samples = new Float64Array(capacity);
  }

  add(milliseconds: number): void {
    if (this.seen++ % this.stride !== 0) return;
    if (this.count === this.samples.length) {
      // Keep every other sample and halve the rate from now on.
      for (let index = 0; index < this.count / 2; index++) this.samples[index] = this.samples[index * 2];
      this.count = this.count >>> 1;
      this.stride *= 2;
    }
    this.samples[this.count++] = milliseconds;
  }

  values(): Float64Array {
    return this.samples.slice(0, this.count);
  }
}

/** Measures this process's CPU time over an interval, as a share of one core (1.0 = one core busy). */
export class CpuMeter {
  private readonly startUsage = process.cpuUsage();
  private readonly startTime = process.hrtime.bigint();

  shareOfOneCore(): number {
    const usage = process.cpuUsage(this.startUsage);
    const elapsedMicroseconds = Number(process.hrtime.bigint() - this.startTime) / 1000;
    return (usage.user + usage.system) / elapsedMicroseconds;
  }
}

/** Above this share of one core, the generator rather than the server is probably the limit. */
export const GENERATOR_SATURATED = 0.9;

/**
 * CPU seconds (user + system) process `pid` has used so far, from /proc/<pid>/stat: Linux only, undefined
 * elsewhere or once the process is gone. Less sensitive than wall time to other work on a busy machine.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // After the command name (in parentheses, may hold spaces): utime is the 12th field, stime the 13th, in 1/100 s.
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
