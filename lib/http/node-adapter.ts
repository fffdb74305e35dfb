// Runs a Router on node:http, so the same routes serve on Node's parser and on ours (server.ts) for comparison.
// Reads the body up to a limit (413, RFC 9110 §15.5.14), writes Content-Length, passes 'upgrade' to the router.
import * as http from 'node:http';
import { joinRawHeaders, type Router, type RouteResponse } from './router.ts';
import { DEFAULT_MAX_BODY_BYTES } from './limits.ts';
import { errorResponse } from './responses.ts';
import { isFinalStatus, isFramingHeader, statusForbidsContent } from '../http-common/response-head.ts';
import { requestPathAndQuery } from './target.ts';
import { isThenable } from './thenable.ts';
import { logFailure } from './log-failure.ts';
import { MessageAssembler } from '../websocket/message-assembler.ts';

export interface NodeAdapterOptions {
  /** Bodies larger than this are refused with 413 (default 1 MiB, like the raw server). */
  maxBodyBytes?: number;
}

const EMPTY_BODY = Buffer.alloc(0);

/**
 * Write the whole response: one writeHead with every header in one object (the fast path of node:http,
 * as a bare handler does), then one end().
 */
function send(request: http.IncomingMessage, response: http.ServerResponse, routeResponse: RouteResponse, close: boolean): void {
  if (response.headersSent || response.destroyed) return;
  const body = routeResponse.body ?? '';
  const status = routeResponse.status ?? 200;
  if (!isFinalStatus(status)) {
    // node:http would send 100 as if final and throw on 1000; answer 500 as the raw server does.
    logFailure('http', `${request.method} ${request.url}`, `handler answered with status ${status}, not 200–599`);
    return send(request, response, errorResponse(500), close);
  }
  const headers: Record<string, string | number> = {};
  for (const name in routeResponse.headers) {
    // The framing is ours (as on the raw server): a handler's own copies are dropped.
    if (!isFramingHeader(name)) headers[name] = routeResponse.headers[name]!;
  }
  if (!statusForbidsContent(status)) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (close) headers['connection'] = 'close';
  try {
    response.writeHead(status, headers);
  } catch (error) {
    // node:http refuses header values with CR/LF; answer 500 like the raw server does.
    logFailure('http', `${request.method} ${request.url}`, error);
    return send(request, response, errorResponse(500), close);
  }
  // node:http itself drops the body of a HEAD response and keeps Content-Length.
  response.end(body);
}

/** Route one request whose body is complete; a synchronous handler is answered without a Promise in between. */
function route(router: Router, request: http.IncomingMessage, response: http.ServerResponse, headers: Record<string, string>, body: Buffer): void {
  const target = request.url ?? '/';
  const { path, query } = requestPathAndQuery(target);
  const result = router.dispatch({
    method: request.method ?? 'GET', path, query: new URLSearchParams(query), headers,
    body, remoteAddress: request.socket.remoteAddress, target, httpVersion: request.httpVersion,
  });
  if (isThenable(result)) result.then((routeResponse) => send(request, response, routeResponse, false));
  else send(request, response, result, false);
}

/** Serve `router` on an existing node:http server: requests through router.dispatch(), upgrades through handleUpgrade(). */
export function attachRouter(server: http.Server, router: Router, options: NodeAdapterOptions = {}): http.Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    // Our own header record from rawHeaders: node's `request.headers` would build a second one.
    const headers = joinRawHeaders(request.rawHeaders);
    const contentLength = headers['content-length'];
    // Most requests (GET, HEAD) have no body: route at once, no listeners, no waiting for 'end'.
    if (headers['transfer-encoding'] === undefined && (contentLength === undefined || contentLength === '0')) {
      route(router, request, response, headers, EMPTY_BODY);
      return;
    }
    const announced = Number(contentLength ?? 0);
    if (announced > maxBodyBytes) {
      send(request, response, errorResponse(413), true);
      request.resume();
      return;
    }
    // node:http hands over each chunk of a chunked body as its own Buffer: copy them into one growing buffer,
    // or a million 1-byte chunks would keep a million Buffer objects (~100 MiB) for a 1 MB body.
    const body = new MessageAssembler(maxBodyBytes);
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (body.byteLength + chunk.length > maxBodyBytes) {
        refused = true;
        body.take();
        send(request, response, errorResponse(413), true);
        return;
      }
      body.append(chunk, 0);
    });
    request.on('end', () => {
      if (refused) return;
      route(router, request, response, headers, body.take());
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
