// `npm run bench`: the project's honest scoreboard (issue 4). Runs the chosen sections, each server under
// test and each load generator in its own process, and prints one table of ratios ours / peer with targets.
// `--help` for the options; a full run's table goes to bench/results/latest.md as well.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname } from 'node:path';
import { parseOptions, USAGE, type BenchOptions, type Section } from './options.ts';
import { killAllChildren } from './processes.ts';
import { formatTable, type Row } from './table.ts';
import { runEchoSection } from './sections/echo.ts';
import { runFanoutSection } from './sections/fanout.ts';
import { runCodecSection } from './sections/codec.ts';
import { runMemorySection } from './sections/memory.ts';
import { runHandshakeSection } from './sections/handshakes.ts';
import { runHttpSection } from './sections/http.ts';
import { runRedisSection } from './sections/redis.ts';
import { runScaleoutSection } from './sections/scaleout.ts';
import { runDeflateSection } from './sections/deflate.ts';

type SectionRunner = (options: BenchOptions, log: (line: string) => void) => Promise<Row[]>;

const RUNNERS: Record<Section, SectionRunner> = {
  echo: runEchoSection,
  fanout: runFanoutSection,
  codec: runCodecSection,
  memory: runMemorySection,
  handshakes: runHandshakeSection,
  http: runHttpSection,
  redis: runRedisSection,
  scaleout: runScaleoutSection,
  deflate: runDeflateSection,
};

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if ('help' in options) {
    console.log(USAGE);
    return 0;
  }
  if ('error' in options) {
    console.error(`bench: ${options.error}\n\n${USAGE}`);
    return 2;
  }
  if (options.profileDirectory) mkdirSync(options.profileDirectory, { recursive: true });

  const modeNote = options.mode === 'full' ? '' : ` — ${options.mode.toUpperCase()} run (short, noisy)`;
  const header = `handrolled bench — ${new Date().toISOString()} — ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ` +
    `Node ${process.version}, ${os.platform()} ${os.release()}${modeNote}\n${loadNote('Load average at start')}`;
  console.log(header);
  const log = (line: string): void => console.log(line);
  const rows: Row[] = [];
  const failures: string[] = [];
  const startedAt = Date.now();
  for (const section of options.sections) {
    log(`\n## ${section}`);
    const sectionStart = Date.now();
    try {
      rows.push(...(await RUNNERS[section](options, log)));
    } catch (error) {
      // One broken section must not cost the others: report it and go on.
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`${section}: ${message}`);
      log(`  section ${section} FAILED: ${message}`);
      killAllChildren();
    }
    log(`  (${((Date.now() - sectionStart) / 1000).toFixed(1)} s)`);
  }

  const table = formatTable(rows);
  const footer = [
    loadNote('Load average at end'),
    `Total ${((Date.now() - startedAt) / 1000).toFixed(0)} s. Ratio = ours / peer, both measured in this run.`,
    ...failures.map((failure) => `FAILED section ${failure}`),
  ].join('\n');
  const document = `${header}\n\n${table}\n\n${footer}\n`;
  console.log(`\n${document}`);
  if (options.output === undefined) {
    console.log(`not written to a file (a ${options.mode} run keeps the full run's table; --output FILE to keep this one)`);
  } else {
    mkdirSync(dirname(options.output), { recursive: true });
    writeFileSync(options.output, document);
    console.log(`written to ${options.output}`);
  }
  return failures.length > 0 ? 1 : 0;
}

/** Other work on the machine skews every figure; say how busy it was. */
function loadNote(label: string): string {
  const [one, five] = os.loadavg();
  const busy = one > os.cpus().length * 0.5 ? ' — the machine was busy with other work: figures are noisy' : '';
  return `${label}: ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min)${busy}`;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
}).finally(killAllChildren);
