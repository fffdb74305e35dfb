// Child process: the echo load generator. N raw connections, each a closed loop with a window of K
// binary messages in flight; every echoed frame (counted by its header) sends the next one.
// Reports messages (in all and per connection), round-trip samples and its own CPU share over the measured
// interval, and says 'measuring' when that interval starts (so the server's CPU can be sampled over it).

import { performance } from 'node:perf_hooks';
import { report, runChild } from '../processes.ts';
import { CpuMeter, LatencySamples } from '../stats.ts';
import { FrameCounter, maskedFrame, openMany, Opcode, repeated } from '../wire.ts';

interface Arguments { port: number; connections: number; payloadBytes: number; window: number; warmupMs: number; durationMs: number }

runChild(async () => {
  const [port, connections, payloadBytes, window, warmupMs, durationMs] = process.argv.slice(2).map(Number);
  const result = await runEchoLoad({ port, connections, payloadBytes, window, warmupMs, durationMs });
  report({ type: 'result', ...result });
});

async function runEchoLoad(options: Arguments) {
  const frame = maskedFrame(Opcode.Binary, Buffer.alloc(options.payloadBytes, 0x61));
  const windowBytes = repeated(frame, options.window);
  const opened = await openMany(options.port, options.connections);
  const latencies = new LatencySamples(200_000);
  let measuring = false;
  let messages = 0;
  const perConnection = new Array<number>(opened.length).fill(0);

  for (const [connection, { socket }] of opened.entries()) {
    const counter = new FrameCounter();
    // Send times of the messages in flight, oldest first: the echo answers in order.
    const sentAt = new Float64Array(options.window);
    let oldest = 0;
    let inFlight = 0;
    const send = (count: number): void => {
      const now = performance.now();
      for (let index = 0; index < count; index++) sentAt[(oldest + inFlight + index) % options.window] = now;
      inFlight += count;
      socket.write(count === options.window ? windowBytes : windowBytes.subarray(0, count * frame.length));
    };
    socket.on('data', (chunk: Buffer) => {
      const done = counter.push(chunk);
      if (done === 0) return;
      if (measuring) {
        const now = performance.now();
        for (let index = 0; index < done; index++) latencies.add(now - sentAt[(oldest + index) % options.window]);
        messages += done;
        perConnection[connection] += done;
      }
      oldest = (oldest + done) % options.window;
      inFlight -= done;
      send(done);
    });
    socket.on('error', () => {});
    send(options.window);
  }

  await delay(options.warmupMs);
  measuring = true;
  report({ type: 'measuring' });
  const cpu = new CpuMeter();
  const startedAt = performance.now();
  await delay(options.durationMs);
  measuring = false;
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuShare = cpu.shareOfOneCore();
  for (const { socket } of opened) socket.destroy();
  return { messages, perConnection, seconds, cpuShare, latencies: Array.from(latencies.values()) };
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
