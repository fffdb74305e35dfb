// The view counts on disk: `{"version":1,"views":{"<post uuid>":n,…}}`, loaded at start and replaced
// atomically (write a temporary file, fsync it, rename it over the old one, fsync the directory), so a
// crash leaves either the old file or the new one, never half of one. A file we cannot read is refused,
// and so is a folder we could never save into.

import { accessSync, closeSync, constants, fsyncSync, openSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isUuid } from './uuid.ts';

const FORMAT_VERSION = 1;

/** The data file exists but is not ours to overwrite (unreadable, not JSON, not the expected shape), or could never be saved. */
export class DataFileError extends Error {
  constructor(readonly path: string, problem: string, consequence = 'refusing to start so the file is not overwritten (fix or move it)') {
    super(`data file ${path}: ${problem}; ${consequence}`);
    this.name = 'DataFileError';
  }
}

/**
 * Read the saved counts. A missing file is a first start (no counts); anything else wrong, including a
 * folder the file could not be saved into, throws DataFileError.
 */
export function loadViewCounts(path: string): Map<string, number> {
  checkFolderIsWritable(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new DataFileError(path, `cannot be read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(path, `is not valid JSON (${(error as Error).message})`);
  }
  return validateContents(path, parsed);
}

/** Starting without a place to save would lose every count at shutdown, after the fact: refuse now instead. */
function checkFolderIsWritable(path: string): void {
  const folder = dirname(path);
  try {
    // Saving creates a temporary file there and renames it: writing and searching the folder.
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? `its folder ${folder} does not exist`
      : code === 'ENOTDIR' ? `${folder} is not a folder`
      : `its folder ${folder} is not writable (${code})`;
    const advice = code === 'ENOENT' ? 'create the folder or choose another path' : 'choose another path';
    throw new DataFileError(path, problem, `refusing to start, as every save would fail (${advice})`);
  }
}

function validateContents(path: string, parsed: unknown): Map<string, number> {
  const record = parsed as { version?: unknown; views?: unknown } | null;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new DataFileError(path, 'is not a JSON object');
  if (record.version !== FORMAT_VERSION) throw new DataFileError(path, `has version ${JSON.stringify(record.version)}, expected ${FORMAT_VERSION}`);
  const views = record.views;
  if (typeof views !== 'object' || views === null || Array.isArray(views)) throw new DataFileError(path, '"views" is not an object');
  const counts = new Map<string, number>();
  for (const [postId, count] of Object.entries(views)) {
    if (!isUuid(postId) || postId !== postId.toLowerCase()) throw new DataFileError(path, `post id ${JSON.stringify(postId.slice(0, 60))} is not a lower-case UUID`);
    if (!Number.isSafeInteger(count) || (count as number) < 0) throw new DataFileError(path, `views of ${postId} is not a non-negative integer`);
    counts.set(postId, count as number);
  }
  return counts;
}

/** Serialise the counts one entry at a time (a large map never becomes one giant intermediate object). */
function serialize(counts: Iterable<[string, number]>): string {
  const parts: string[] = [];
  for (const [postId, views] of counts) parts.push(`${JSON.stringify(postId)}:${views}`);
  return `{"version":${FORMAT_VERSION},"views":{${parts.join(',')}}}\n`;
}

/** Replace the file with these counts, atomically and durably. */
export async function saveViewCounts(path: string, counts: Iterable<[string, number]>): Promise<void> {
  const contents = serialize(counts);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temporary, 'w', 0o644);
  try {
    await file.writeFile(contents, 'utf8');
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await rename(temporary, path);
  syncDirectory(dirname(path));
}

/** The rename itself is only durable once the directory entry is flushed (POSIX; a no-op where unsupported). */
function syncDirectory(directory: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(directory, 'r');
    fsyncSync(descriptor);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
