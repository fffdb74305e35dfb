// Command line of `npm run bench`: which sections to run, how long, and where the table goes.

import { parseArgs } from 'node:util';

export const SECTIONS = ['echo', 'fanout', 'codec', 'memory', 'handshakes', 'http', 'redis', 'scaleout', 'deflate'] as const;
export type Section = (typeof SECTIONS)[number];

/** full: the scoreboard · quick: short runs for development · tiny: seconds, for the smoke test. */
export type Mode = 'full' | 'quick' | 'tiny';

export interface BenchOptions {
  mode: Mode;
  /** True for quick and tiny runs. */
  quick: boolean;
  sections: Section[];
  /** Runs of each load measurement; the best counts (see repeat.ts). */
  repeat: number;
  /** Load generator processes for the N=100 echo runs. */
  generators: number;
  /** Idle connections for the memory section. */
  idleConnections: number;
  /** Write a CPU profile of every server under test into this directory. */
  profileDirectory: string | undefined;
  /** Where the Markdown table goes; a quick or tiny run writes nothing unless asked, so it never replaces the full run's table. */
  output: string | undefined;
}

/** Where a full run's table goes. */
export const FULL_RUN_OUTPUT = 'bench/results/latest.md';

export const USAGE = `Usage: npm run bench -- [--quick] [--only echo,codec,...] [options]

The project's scoreboard: every figure beside its peer (ws, node:http, raw node:net) measured in the
same run, as a ratio ours / peer against its target. Servers and load generators run in separate
processes on loopback. The table is printed; a full run also writes it to bench/results/latest.md
(--quick and --tiny runs only with --output, so they never replace the full run's table).

Sections: ${SECTIONS.join(', ')} (default: all)

Options:
  --quick               short runs (under two minutes in all; echo at N=100 only), for development
  --tiny                a few seconds per section, numbers meaningless (the smoke test)
  --only LIST           comma-separated sections to run
  --repeat N            run each load measurement N times, alternating sides, keep the best
                        (default 2 for a full run, 1 for --quick)
  --generators N        load generator processes for the N=100 echo runs (default 1)
  --idle-connections N  idle connections for the memory section (default 10000, 1000 with --quick)
  --profile DIR         run each server under test with --cpu-prof, one subdirectory of DIR per server
  --output FILE         where to write the Markdown table (default bench/results/latest.md for a
                        full run; quick and tiny runs write only when given this)
  -h, --help            this text`;

export function parseOptions(argv: string[]): BenchOptions | { help: true } | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        tiny: { type: 'boolean', default: false },
        only: { type: 'string' },
        repeat: { type: 'string' },
        generators: { type: 'string', default: '1' },
        'idle-connections': { type: 'string' },
        profile: { type: 'string' },
        output: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const { values } = parsed;
  if (values.help) return { help: true };
  const sections = values.only === undefined ? [...SECTIONS] : values.only.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = sections.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) return { error: `unknown section ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})` };
  const generators = Number(values.generators);
  if (!Number.isInteger(generators) || generators < 1 || generators > 8) return { error: '--generators must be an integer from 1 to 8' };
  const mode: Mode = values.tiny ? 'tiny' : values.quick ? 'quick' : 'full';
  const idleConnections = Number(values['idle-connections'] ?? (mode === 'tiny' ? 100 : mode === 'quick' ? 1000 : 10_000));
  if (!Number.isInteger(idleConnections) || idleConnections < 1) return { error: '--idle-connections must be a positive integer' };
  const repeat = Number(values.repeat ?? (mode === 'full' ? 2 : 1));
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) return { error: '--repeat must be an integer from 1 to 10' };
  return {
    mode,
    repeat,
    quick: mode !== 'full',
    sections: sections as Section[],
    generators,
    idleConnections,
    profileDirectory: values.profile,
    output: values.output ?? (mode === 'full' ? FULL_RUN_OUTPUT : undefined),
  };
}

/** Node flags for a server under test: a CPU profile when asked for, and gc for memory measurements. */
export function serverFlags(options: BenchOptions, label: string): string[] {
  const flags = ['--expose-gc'];
  if (options.profileDirectory) {
    profileCount++;
    // One directory per server: tsx's loader thread writes a profile of its own beside the main thread's
    // (the main thread's is the larger file), and a fixed --cpu-prof-name would make them overwrite each other.
    flags.push('--cpu-prof', `--cpu-prof-dir=${options.profileDirectory}/${String(profileCount).padStart(2, '0')}-${label}`);
  }
  return flags;
}

let profileCount = 0;

/** Pick a duration (or any size) by mode. */
export function byMode<T>(options: BenchOptions, sizes: Record<Mode, T>): T {
  return sizes[options.mode];
}
