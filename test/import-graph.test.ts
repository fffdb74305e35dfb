// The code's imports run one way, so it can be read bottom-up: no file of lib/ reaches itself again through
// its imports, folders depend on each other in one direction only, lib/ never reaches into servers/ or
// clients/, runtime code imports only node:* and relative paths, and a client touches servers/ in exactly one
// file, the one that wires it to its in-process stand-in.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts file below `folder`, as a path relative to the repository ("lib/http/parser.ts"). */
function sourceFiles(folder: string): string[] {
  const entries = readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name))).sort();
}

/** The module specifiers a file imports or re-exports, static and dynamic. */
function specifiers(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g)) found.push(match[1]!);
  return found;
}

/** The repository files a file imports (relative specifiers only). */
function localImports(file: string): string[] {
  return specifiers(file).filter((specifier) => specifier.startsWith('.')).map((specifier) => normalize(join(dirname(file), specifier)));
}

/** One cycle of `graph` as a path ("a → b → a"), or undefined when it has none. */
function findCycle(graph: Map<string, Set<string>>): string | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string | undefined => {
    state.set(node, 'visiting');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') return [...path.slice(path.indexOf(next)), next].join(' → ');
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle !== undefined) return cycle;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle !== undefined) return cycle;
    }
  }
  return undefined;
}

const LIB = sourceFiles('lib');

/**
 * The folder a file belongs to, two levels deep at most ("lib/websocket", "servers/cch19", "servers"): a deeper
 * folder such as lib/websocket/permessage-deflate/ is a part of its parent's idea, not a neighbour of it.
 */
function folderOf(file: string): string {
  return dirname(file).split('/').slice(0, 2).join('/');
}

test('no file of lib/ imports itself back through other files', () => {
  const graph = new Map(LIB.map((file) => [file, new Set(localImports(file))]));
  assert.equal(findCycle(graph), undefined);
});

test('folders depend on each other one way, in lib/, servers/ and clients/ (http → websocket is fine only if websocket never needs http)', () => {
  const graph = new Map<string, Set<string>>();
  for (const file of [...LIB, ...sourceFiles('servers'), ...sourceFiles('clients')]) {
    for (const imported of localImports(file)) {
      const from = folderOf(file);
      const to = folderOf(imported);
      if (from === to) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  assert.equal(findCycle(graph), undefined);
});

test('lib/ imports nothing from servers/ or clients/, and servers/ nothing from clients/', () => {
  const wrong = [...LIB, ...sourceFiles('servers')].flatMap((file) => localImports(file)
    .filter((imported) => imported.startsWith('clients/') || (file.startsWith('lib/') && imported.startsWith('servers/')))
    .map((imported) => `${file} → ${imported}`));
  assert.deepEqual(wrong, []);
});

test('runtime code (lib/, servers/, clients/) imports only node:* modules and relative paths', () => {
  const wrong = [...LIB, ...sourceFiles('servers'), ...sourceFiles('clients')].flatMap((file) => specifiers(file)
    .filter((specifier) => !specifier.startsWith('node:') && !specifier.startsWith('.'))
    .map((specifier) => `${file} → ${specifier}`));
  assert.deepEqual(wrong, []);
});

test('a client touches servers/ only in its in-process-standin.ts, the file that says it wires the stand-in in', () => {
  const wrong = sourceFiles('clients').filter((file) => !file.endsWith('/in-process-standin.ts'))
    .flatMap((file) => localImports(file).filter((imported) => imported.startsWith('servers/')).map((imported) => `${file} → ${imported}`));
  assert.deepEqual(wrong, []);
});
