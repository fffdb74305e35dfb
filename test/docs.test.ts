// The docs cannot drift silently: every file path, every `npm run` script and every flag given to a
// program in README.md and docs/ must exist in the code, and every relative link must lead somewhere.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

function walk(directory: string, keep: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...walk(path, keep));
    else if (keep(path)) found.push(path);
  }
  return found;
}

const documents = [join(root, 'README.md'), ...walk(join(root, 'docs'), (path) => path.endsWith('.md'))];
const repositoryFiles = walk(root, () => true).map((path) => relative(root, path));
const fileNames = new Set(repositoryFiles.map((path) => basename(path)));

/** `test/batchat*.test.ts` style globs: `*` within one path segment. */
function matchesSomeFile(pattern: string): boolean {
  const clean = pattern.replace(/\/$/, '');
  if (!clean.includes('*')) return existsSync(join(root, clean));
  const expression = new RegExp(`^${clean.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  return repositoryFiles.some((path) => expression.test(path));
}

function problemsIn(document: string): string[] {
  const text = readFileSync(document, 'utf8');
  const name = relative(root, document);
  const problems: string[] = [];

  // Paths from the repository root: lib/…, servers/…, clients/…, test/…, bench/…, docs/….
  for (const match of text.matchAll(/(?<![\w./-])((?:lib|servers|clients|test|bench|docs)\/[\w.*/-]*[\w*/])/g)) {
    const path = match[1]!;
    if (path.includes('<') || path.startsWith('bench/results')) continue; // placeholders; generated output
    if (!matchesSomeFile(path)) problems.push(`${name}: no file or folder ${path}`);
  }
  // A source file named on its own, in backticks: it must exist somewhere in the tree.
  for (const match of text.matchAll(/`([\w-]+\.(?:ts|js|html|css|lua))`/g)) {
    if (!fileNames.has(match[1]!)) problems.push(`${name}: no file named ${match[1]}`);
  }
  // Relative links.
  for (const match of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)\s]+)\)/g)) {
    const target = match[1]!.split('#')[0]!;
    if (target !== '' && !existsSync(join(dirname(document), target))) problems.push(`${name}: broken link ${match[1]}`);
  }
  // npm scripts, and the flags given to them.
  for (const match of text.matchAll(/npm (run ([\w-]+)|start)( --(?: [^\n`|#]*)?)?/g)) {
    const script = match[2] ?? 'start';
    const command = scripts[script];
    if (command === undefined) {
      problems.push(`${name}: npm run ${script} is not a script in package.json`);
      continue;
    }
    const entry = command.split(' ').find((word) => word.endsWith('.ts'));
    if (entry === undefined || match[3] === undefined) continue;
    const sources = readdirSync(join(root, dirname(entry))).filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(root, dirname(entry), file), 'utf8')).join('\n');
    for (const flag of match[3].matchAll(/(?<=\s)(--[a-z][\w-]*)/g)) {
      if (!sources.includes(flag[1]!)) problems.push(`${name}: npm ${match[1]} has no flag ${flag[1]}`);
    }
  }
  return problems;
}

test('every path, npm script, flag and relative link named in README.md and docs/ exists', () => {
  assert.ok(documents.length > 10, 'docs/ has its chapters');
  const problems = documents.flatMap(problemsIn);
  assert.deepEqual(problems, []);
});

test('each chapter ends with the files to read ("Code") and the tests that prove it ("Tests")', () => {
  const chapters = documents.filter((path) => path.includes(`${join('docs', '')}`) && !path.endsWith(join('docs', 'README.md')));
  const missing = chapters.filter((path) => {
    const text = readFileSync(path, 'utf8');
    return !/^## Code$/m.test(text) || !/^## Tests$/m.test(text);
  }).map((path) => relative(root, path));
  assert.deepEqual(missing, []);
});

test('docs/README.md links every chapter', () => {
  const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
  const unlisted = documents.filter((path) => path.includes(join(root, 'docs')) && !path.endsWith(join('docs', 'README.md')))
    .map((path) => relative(join(root, 'docs'), path)).filter((path) => !index.includes(`(${path})`));
  assert.deepEqual(unlisted, []);
  assert.ok(statSync(join(root, 'docs', 'wire-inspector.png')).size > 0);
});
