// Serving a folder of static pages (HTML, CSS, browser JavaScript) through the Router.
// The folder is read once at start-up and each file becomes one exact GET route, so no request path
// ever reaches the file system: path traversal ("/19/../../etc/passwd", "%2e%2e") has nothing to find.

import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RouteResponse, Router } from '../../lib/http/router.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** File names served: plain names with a known extension (no dot files, no sub-folders). */
const SERVABLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface StaticFile {
  name: string;
  contentType: string;
  body: Buffer;
}

/** The servable files of `directory`, read into memory. A missing folder is an error: the pages ship with the code. */
export function loadStaticFiles(directory: string): StaticFile[] {
  const files: StaticFile[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (!entry.isFile() || !SERVABLE_NAME.test(entry.name)) continue;
    const contentType = CONTENT_TYPES[extname(entry.name).toLowerCase()];
    if (contentType === undefined) continue;
    files.push({ name: entry.name, contentType, body: readFileSync(join(directory, entry.name)) });
  }
  return files;
}

/** The response for one file; `no-cache` so an edited page shows after a restart without a stale copy. */
export function staticResponse(file: StaticFile): RouteResponse {
  return {
    status: 200,
    headers: { 'content-type': file.contentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    body: file.body,
  };
}

/**
 * Register every file of `directory` under `mountPath` (which ends with "/"); `index.html` is also served
 * at `mountPath` itself. Returns the paths registered.
 */
export function serveStaticFiles(router: Router, mountPath: string, directory: string): string[] {
  if (!mountPath.endsWith('/')) throw new Error(`serveStaticFiles: mount path must end with "/": ${mountPath}`);
  const paths: string[] = [];
  for (const file of loadStaticFiles(directory)) {
    const response = staticResponse(file);
    const path = mountPath + file.name;
    router.get(path, () => response);
    paths.push(path);
    if (file.name === 'index.html') {
      router.get(mountPath, () => response);
      paths.push(mountPath);
    }
  }
  return paths;
}
