// Child process: the handshake generator. `concurrency` loops, each: connect, upgrade, send a close
// frame, wait for the server to close TCP (RFC 6455 §7.1.1), repeat. Counts completed cycles.

import { performance } from 'node:perf_hooks';
import { report, runChild } from '../processes.ts';
import { CpuMeter } from '../stats.ts';
import { maskedFrame, openWebSocket, Opcode } from '../wire.ts';

const CLOSE_FRAME = maskedFrame(Opcode.Close, Buffer.from([0x03, 0xe8])); // 1000, normal closure

runChild(async () => {
  const [port, concurrency, warmupMs, durationMs] = process.argv.slice(2).map(Number);
  let measuring = false;
  let running = true;
  let cycles = 0;
  let failures = 0;

  async function cycle(): Promise<void> {
    const { socket } = await openWebSocket(port);
    await new Promise<void>((resolve) => {
      socket.on('error', () => {});
      socket.once('close', () => resolve());
      socket.write(CLOSE_FRAME);
      socket.resume();
    });
  }

  async function loop(): Promise<void> {
    while (running) {
      try {
        await cycle();
        if (measuring) cycles++;
      } catch {
        if (measuring) failures++;
      }
    }
  }

  const loops = Array.from({ length: concurrency }, loop);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  report({ type: 'measuring' });
  const cpu = new CpuMeter();
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuShare = cpu.shareOfOneCore();
  running = false;
  await Promise.all(loops);
  report({ type: 'result', cycles, failures, seconds, cpuShare });
});
