// Hello World over HTTP/1.1: a small HTML page that also shows, as a lesson, the request the server just parsed.
// Runs on the raw stack (lib/http/server.ts) by default, or on node:http with the same router for comparison.
import { Router, type RouteRequest } from '../../lib/http/router.ts';
import { html, text } from '../../lib/http/responses.ts';
import { listenRouter } from '../../lib/http/listen.ts';

/** Escape the five characters that matter in HTML text and attribute values; everything echoed goes through here. */
export function escapeHtml(value: string): string {
  let escaped = '';
  let last = 0;
  for (let index = 0; index < value.length; index++) {
    let replacement: string;
    switch (value.charCodeAt(index)) {
      case 0x26: replacement = '&amp;'; break;
      case 0x3c: replacement = '&lt;'; break;
      case 0x3e: replacement = '&gt;'; break;
      case 0x22: replacement = '&quot;'; break;
      case 0x27: replacement = '&#39;'; break;
      default: continue;
    }
    escaped += value.slice(last, index) + replacement;
    last = index + 1;
  }
  return last === 0 ? value : escaped + value.slice(last);
}

/** The request as the server understood it: request line, then one "name: value" line per (joined) header. */
function describeRequest(request: RouteRequest): string {
  const target = request.target ?? request.path + (request.query.size > 0 ? `?${request.query}` : '');
  let lines = `${request.method} ${target} HTTP/${request.httpVersion ?? '1.1'}\n`;
  for (const name in request.headers) lines += `${name}: ${request.headers[name]}\n`;
  if (request.body.length > 0) lines += `\n(${request.body.length} body bytes)\n`;
  return lines;
}

function helloPage(request: RouteRequest): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello, World</title></head>
<body>
<h1>Hello, World!</h1>
<p>This page was served by a hand-written HTTP/1.1 server. Here is the request it parsed
(header names are lower-cased, repeated headers joined):</p>
<pre>${escapeHtml(describeRequest(request))}</pre>
</body>
</html>
`;
}

/** Routes of the hello server: the page at "/", the same echo as plain text at "/echo". */
export function createHelloRouter(): Router {
  return new Router()
    .get('/', (request) => html(helloPage(request)))
    .get('/echo', (request) => text(describeRequest(request)))
    .post('/echo', (request) => text(describeRequest(request) + '\n' + request.body.toString('utf8')));
}

export interface HelloOptions {
  port?: number;
  host?: string;
  /** "raw" (default): lib/http/server.ts; "node": the same router on node:http. */
  stack?: 'raw' | 'node';
}

export interface RunningHello {
  port: number;
  close(): Promise<void>;
}

/** Start the hello server in-process (tests, the all-in-one server); port 0 picks a free port. */
export async function startHello(options: HelloOptions = {}): Promise<RunningHello> {
  return listenRouter(createHelloRouter(), options.port ?? 8080, options.host ?? '127.0.0.1', options.stack);
}
