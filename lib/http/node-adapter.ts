// Runs a Router on node:http, so the same routes serve on Node's parser and on ours (server.ts) for comparison.
// Reads the body up to a limit (413, RFC 9110 §15.5.14), writes Content-Length, passes 'upgrade' to the router.
import * as http from 'node:http';
import type { Router, RouteResponse } from './router.ts';
import { DEFAULT_MAX_BODY_BYTES } from './limits.ts';
import { errorResponse } from './responses.ts';
import { requestPathAndQuery } from './target.ts';

export interface NodeAdapterOptions {
  /** Bodies larger than this are refused with 413 (default 1 MiB, like the raw server). */
  maxBodyBytes?: number;
}

/** node:http keeps some repeated headers as arrays and drops others; rebuild them the way the raw server joins them. */
function joinedHeaders(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const value = rawHeaders[index + 1]!;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : existing + (name === 'cookie' ? '; ' : ', ') + value;
  }
  return headers;
}

function send(request: http.IncomingMessage, response: http.ServerResponse, routeResponse: RouteResponse, close: boolean): void {
  if (response.headersSent || response.destroyed) return;
  const body = routeResponse.body ?? '';
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const status = routeResponse.status ?? 200;
  try {
    response.statusCode = status;
    for (const name in routeResponse.headers) response.setHeader(name, routeResponse.headers[name]!);
    if (status >= 200 && status !== 204 && status !== 304) response.setHeader('content-length', bytes.length);
    if (close) response.setHeader('connection', 'close');
  } catch (error) {
    // node:http refuses header values with CR/LF; answer 500 like the raw server does.
    console.error(`[http] ${request.method} ${request.url} failed: ${(error as Error).message}`);
    for (const name of response.getHeaderNames()) response.removeHeader(name);
    return send(request, response, errorResponse(500), close);
  }
  // node:http itself drops the body of a HEAD response and keeps Content-Length.
  response.end(bytes);
}

/** Serve `router` on an existing node:http server: requests through router.handle(), upgrades through handleUpgrade(). */
export function attachRouter(server: http.Server, router: Router, options: NodeAdapterOptions = {}): http.Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const announced = Number(request.headers['content-length'] ?? 0);
    if (announced > maxBodyBytes) {
      send(request, response, errorResponse(413), true);
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        send(request, response, errorResponse(413), true);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (refused) return;
      const target = request.url ?? '/';
      const { path, query } = requestPathAndQuery(target);
      router.handle({
        method: request.method ?? 'GET', path, query: new URLSearchParams(query), headers: joinedHeaders(request.rawHeaders),
        body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received), remoteAddress: request.socket.remoteAddress,
        target, httpVersion: request.httpVersion,
      }).then((routeResponse) => send(request, response, routeResponse, false));
    });
    request.on('error', () => response.destroy());
  });
  server.on('upgrade', (request: http.IncomingMessage, socket, head: Buffer) => router.handleUpgrade(request, socket, head));
  return server;
}

/** A new node:http server running `router`; call listen() on it. */
export function serveWithNodeHttp(router: Router, options: NodeAdapterOptions = {}): http.Server {
  return attachRouter(http.createServer(), router, options);
}
