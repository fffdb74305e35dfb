// `node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 15]`: the functions with the most
// self time in a V8 CPU profile (as written by `npm run bench -- --profile DIR`), with file and line.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' }, help: { type: 'boolean', short: 'h' } } });
if (values.help || positionals.length === 0) {
  console.log('Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top 15]');
  process.exit(values.help ? 0 : 2);
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  // Self time per sample: the delta that follows it belongs to the sampled (innermost) frame.
  const selfTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index + 1] ?? 0;
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url ? `${frame.url.replace(/^file:\/\/.*?\/(lib|bench|servers|node_modules)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    selfTime.set(key, (selfTime.get(key) ?? 0) + delta);
    total += delta;
  });
  const idle = (selfTime.get('(idle)') ?? 0) / total;
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms sampled, ${(idle * 100).toFixed(0)}% idle`);
  const ranked = [...selfTime].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [key, time] of ranked) console.log(`  ${((time / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
