// The measuring side of the fan-out generators (bench/children/fanout-load.ts, scaleout-load.ts): count
// the frames each room socket receives, and time a round from its first send until every socket has
// every message of it. Only frame headers are read (FrameCounter), so counting costs almost nothing.

import { performance } from 'node:perf_hooks';
import { CpuMeter } from './stats.ts';
import { FrameCounter, type OpenWebSocket } from './wire.ts';

export interface RoundResult {
  seconds: number;
  /** The generator's CPU over the round, as a share of one core (near 1: the generator is the limit). */
  cpuShare: number;
}

export class FanoutRounds {
  readonly #size: number;
  #goal = 0;
  #socketsDone = 0;
  #roundDone: (() => void) | undefined;

  constructor(room: readonly OpenWebSocket[]) {
    this.#size = room.length;
    const received = new Uint32Array(room.length);
    room.forEach(({ socket }, index) => {
      const counter = new FrameCounter();
      socket.on('data', (chunk: Buffer) => {
        const before = received[index]!;
        received[index] = before + counter.push(chunk);
        if (before < this.#goal && received[index]! >= this.#goal && ++this.#socketsDone === this.#size) this.#roundDone?.();
      });
    });
  }

  /** `send` sends `count` messages to the room; resolves once every socket has them all. */
  async round(count: number, send: () => Promise<void> | void): Promise<RoundResult> {
    this.#socketsDone = 0;
    this.#goal += count;
    const finished = new Promise<void>((resolve) => { this.#roundDone = resolve; });
    const cpu = new CpuMeter();
    const startedAt = performance.now();
    await send();
    await finished;
    return { seconds: (performance.now() - startedAt) / 1000, cpuShare: cpu.shareOfOneCore() };
  }
}
