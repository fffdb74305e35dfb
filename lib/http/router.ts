// Method + path routing shared by both HTTP stacks (the raw one in server.ts and node:http via node-adapter.ts).
// Paths are matched segment by segment over a tree (static segments beat :parameters beat a trailing *wildcard),
// so attacker-chosen paths never meet a backtracking regular expression. RFC 9110 §9.3.2 (HEAD), §15.5.6 (405 + Allow).
import type { Duplex } from 'node:stream';
import { WebSocketServer, type AcceptOptions, type UpgradeRequest, type WebSocketServerOptions } from '../websocket/server.ts';
import type { WebSocketConnection } from '../websocket/connection.ts';
import type { RouteRequest, RouteResponse } from './exchange.ts';
import { errorResponse } from './responses.ts';
import { writeResponseAndClose } from './serialize.ts';
import { requestPathAndQuery } from './target.ts';
import { isThenable } from './thenable.ts';
import { logFailure } from './log-failure.ts';
import { fieldValueSeparator, joinFieldValues } from '../http-common/fields.ts';

export type { RouteRequest, RouteResponse };

export type RouteHandler = (request: RouteRequest) => RouteResponse | Promise<RouteResponse>;

export type { WebSocketConnection };

export type WebSocketRouteHandler = (connection: WebSocketConnection, request: RouteRequest) => void;

export interface WebSocketRouteOptions extends AcceptOptions {
  /** Runs before the upgrade; returning a response refuses the upgrade with it (e.g. 404 for a bad room number). */
  beforeUpgrade?: (request: RouteRequest) => RouteResponse | undefined;
}

interface HttpRoute { handler: RouteHandler; parameterNames: string[] }
interface WebSocketRoute { handler: WebSocketRouteHandler; options: WebSocketRouteOptions; parameterNames: string[] }

/** One node per path segment position; a route lives on the node its last segment leads to. */
class SegmentNode {
  staticChildren: Map<string, SegmentNode> | undefined;
  parameterChild: SegmentNode | undefined;
  /** The node a trailing "*name" leads to; it swallows every remaining segment. */
  wildcardChild: SegmentNode | undefined;
  httpRoutes: Map<string, HttpRoute> | undefined;
  webSocketRoute: WebSocketRoute | undefined;
}

/** What a tree walk is looking for; a number instead of a predicate closure keeps the walk allocation-free. */
type Want = 0 | 1 | 2;
const WANT_METHOD: Want = 0;
const WANT_ANY_ROUTE: Want = 1;
const WANT_WEBSOCKET: Want = 2;

function nodeSatisfies(node: SegmentNode, want: Want, method: string): boolean {
  if (want === WANT_WEBSOCKET) return node.webSocketRoute !== undefined;
  if (want === WANT_ANY_ROUTE) return node.httpRoutes !== undefined || node.webSocketRoute !== undefined;
  const routes = node.httpRoutes;
  if (routes === undefined) return false;
  return routes.has(method) || (method === 'HEAD' && routes.has('GET'));
}

/**
 * Depth-first walk in priority order. `values` collects the raw parameter values on the way down and is
 * trimmed back when a branch fails. The depth is bounded by the longest registered pattern, not by the input.
 */
function findNode(node: SegmentNode, segments: string[], index: number, values: string[], want: Want, method: string): SegmentNode | undefined {
  if (index === segments.length) return nodeSatisfies(node, want, method) ? node : undefined;
  const segment = segments[index]!;
  const staticChild = node.staticChildren?.get(segment);
  if (staticChild !== undefined) {
    const found = findNode(staticChild, segments, index + 1, values, want, method);
    if (found !== undefined) return found;
  }
  if (node.parameterChild !== undefined && segment.length > 0) {
    values.push(segment);
    const found = findNode(node.parameterChild, segments, index + 1, values, want, method);
    if (found !== undefined) return found;
    values.pop();
  }
  const wildcard = node.wildcardChild;
  if (wildcard !== undefined && nodeSatisfies(wildcard, want, method)) {
    values.push(index === segments.length - 1 ? segment : segments.slice(index).join('/'));
    return wildcard;
  }
  return undefined;
}

/** Percent-decode every value into a params object; undefined when an escape is malformed (the caller answers 400). */
function decodeParameters(names: string[], values: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < names.length; index++) {
    const raw = values[index]!;
    if (raw.indexOf('%') === -1) {
      params[names[index]!] = raw;
      continue;
    }
    try {
      params[names[index]!] = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  return params;
}

/**
 * Headers as routes see them on both stacks: lower-case names in a prototype-less object (so a header
 * named `__proto__` or `toString` is just a header), repeated ones joined with ", " (cookie with "; ").
 * node:http's `rawHeaders` is the source there: its `headers` object drops some names and keeps others as arrays.
 */
export function joinRawHeaders(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    const value = rawHeaders[index + 1]!;
    const existing = headers[name];
    headers[name] = existing === undefined ? value : joinFieldValues(name, existing, value);
  }
  return headers;
}

/** An upgrade request's headers for a route: from rawHeaders when the stack has them, else copied into a prototype-less object. */
function routeHeaders(request: UpgradeRequest): Record<string, string> {
  if (request.rawHeaders !== undefined) return joinRawHeaders(request.rawHeaders);
  const flat: Record<string, string> = Object.create(null);
  for (const name of Object.keys(request.headers)) {
    const value = request.headers[name];
    if (value === undefined) continue;
    const lowerName = name.toLowerCase();
    flat[lowerName] = Array.isArray(value) ? value.join(fieldValueSeparator(lowerName)) : value;
  }
  return flat;
}

function logHandlerFailure(method: string, path: string, error: unknown): void {
  logFailure('router', `${method} ${path}`, error);
}

export interface RouterOptions {
  /** Options for every WebSocket route (a route's own win): `maxConnections` counts all of them together. */
  webSocket?: WebSocketServerOptions;
}

export class Router {
  readonly #root = new SegmentNode();
  /** The open WebSocket connections of every ws route, within one cap; `closeAll` on shutdown. */
  readonly webSockets: WebSocketServer;

  constructor(options: RouterOptions = {}) {
    this.webSockets = new WebSocketServer(options.webSocket);
  }

  get(pattern: string, handler: RouteHandler): this { return this.route('GET', pattern, handler); }
  post(pattern: string, handler: RouteHandler): this { return this.route('POST', pattern, handler); }
  put(pattern: string, handler: RouteHandler): this { return this.route('PUT', pattern, handler); }
  patch(pattern: string, handler: RouteHandler): this { return this.route('PATCH', pattern, handler); }
  delete(pattern: string, handler: RouteHandler): this { return this.route('DELETE', pattern, handler); }

  /** Register `handler` for `method` on `pattern` ("/posts/:id", "/static/*rest"). Registering the same pair twice throws. */
  route(method: string, pattern: string, handler: RouteHandler): this {
    const upperMethod = method.toUpperCase();
    const { node, parameterNames } = this.#insert(pattern);
    node.httpRoutes ??= new Map();
    if (node.httpRoutes.has(upperMethod)) throw new Error(`Router: ${upperMethod} ${pattern} is already registered`);
    node.httpRoutes.set(upperMethod, { handler, parameterNames });
    return this;
  }

  /** Register a WebSocket endpoint; a plain GET on it (no Upgrade) is answered 426 Upgrade Required. */
  ws(pattern: string, handler: WebSocketRouteHandler, options: WebSocketRouteOptions = {}): this {
    const { node, parameterNames } = this.#insert(pattern);
    if (node.webSocketRoute !== undefined) throw new Error(`Router: WebSocket route ${pattern} is already registered`);
    node.webSocketRoute = { handler, options: this.webSockets.withDefaults(options), parameterNames };
    return this;
  }

  /** Route one request and always settle with a response: 404, 405 + Allow, 426, 400 or 500 when nothing better fits. */
  async handle(request: Omit<RouteRequest, 'params'>): Promise<RouteResponse> {
    return this.dispatch(request);
  }

  /**
   * Same as handle(), but a synchronous handler's response comes back without a Promise.
   * Hot path: the raw server uses this so that sync handlers cost no microtask per request.
   */
  dispatch(request: Omit<RouteRequest, 'params'>): RouteResponse | Promise<RouteResponse> {
    const { method, path } = request;
    if (path.charCodeAt(0) !== 0x2f) return errorResponse(404);
    const segments = path.split('/');
    const values: string[] = [];
    const node = findNode(this.#root, segments, 1, values, WANT_METHOD, method);
    if (node === undefined) return this.#notFoundOrNotAllowed(method, segments);
    const route = node.httpRoutes!.get(method) ?? node.httpRoutes!.get('GET')!;
    const params = decodeParameters(route.parameterNames, values);
    if (params === undefined) return errorResponse(400);
    const routeRequest: RouteRequest = {
      method, path, query: request.query, headers: request.headers, body: request.body, params,
      remoteAddress: request.remoteAddress, target: request.target, httpVersion: request.httpVersion,
    };
    let result: RouteResponse | Promise<RouteResponse>;
    try {
      result = route.handler(routeRequest);
    } catch (error) {
      logHandlerFailure(method, path, error);
      return errorResponse(500);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then((response) => checkResponse(method, path, response), (error: unknown) => {
        logHandlerFailure(method, path, error);
        return errorResponse(500);
      });
    }
    return checkResponse(method, path, result);
  }

  /** Is there a WebSocket route for this request-target? Otherwise an `Upgrade: websocket` request is served as plain HTTP. */
  hasWebSocketRoute(target: string): boolean {
    const { path } = requestPathAndQuery(target);
    return path.charCodeAt(0) === 0x2f && findNode(this.#root, path.split('/'), 1, [], WANT_WEBSOCKET, 'GET') !== undefined;
  }

  /**
   * Take over a socket whose request asked for `Upgrade: websocket` (node's 'upgrade' event has this signature).
   * Match a ws route, run beforeUpgrade, complete the handshake, then give the connection to the route's handler.
   * With no ws route for the path the Upgrade header is ignored (RFC 9110 §7.8) and the request is routed as
   * plain HTTP, answered, and the connection closed. Every refusal is a complete HTTP response written on the
   * socket before it is destroyed.
   */
  handleUpgrade(request: UpgradeRequest, socket: Duplex, head: Buffer): void {
    const method = (request.method ?? 'GET').toUpperCase();
    const { path, query } = requestPathAndQuery(request.url ?? '/');
    if (path.charCodeAt(0) !== 0x2f) return writeResponseAndClose(socket, errorResponse(404));
    const values: string[] = [];
    const node = findNode(this.#root, path.split('/'), 1, values, WANT_WEBSOCKET, method);
    if (node === undefined) return this.#serveIgnoringUpgrade(request, socket, method, path, query);
    const route = node.webSocketRoute!;
    const params = decodeParameters(route.parameterNames, values);
    if (params === undefined) return writeResponseAndClose(socket, errorResponse(400));
    const routeRequest: RouteRequest = {
      method, path, query: new URLSearchParams(query), headers: routeHeaders(request), body: Buffer.alloc(0), params,
      remoteAddress: (socket as { remoteAddress?: string }).remoteAddress, target: request.url, httpVersion: request.httpVersion,
    };
    if (route.options.beforeUpgrade !== undefined) {
      let refusal: RouteResponse | undefined;
      try {
        refusal = route.options.beforeUpgrade(routeRequest);
      } catch (error) {
        logHandlerFailure(method, path, error);
        refusal = errorResponse(500);
      }
      if (refusal !== undefined) return writeResponseAndClose(socket, refusal);
    }
    const connection = this.webSockets.accept(request, socket, head, route.options);
    if (connection === undefined) return;
    try {
      route.handler(connection, routeRequest);
    } catch (error) {
      logHandlerFailure(method, path, error);
      connection.close(1011, 'internal error');
    }
  }

  /**
   * node:http hands every Upgrade request to 'upgrade', body unread. One without a body is routed as plain
   * HTTP; one announcing a body is refused (400): reading it here would duplicate the adapter's body reader.
   */
  #serveIgnoringUpgrade(request: UpgradeRequest, socket: Duplex, method: string, path: string, query: string): void {
    const headers = routeHeaders(request);
    const contentLength = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || (contentLength !== undefined && Number(contentLength) !== 0)) {
      return writeResponseAndClose(socket, errorResponse(400));
    }
    const result = this.dispatch({
      method, path, query: new URLSearchParams(query), headers, body: Buffer.alloc(0),
      remoteAddress: (socket as { remoteAddress?: string }).remoteAddress, target: request.url, httpVersion: request.httpVersion,
    });
    const answer = (response: RouteResponse): void => writeResponseAndClose(socket, method === 'HEAD' ? { ...response, body: undefined } : response);
    if (isThenable(result)) result.then(answer);
    else answer(result);
  }

  /** The path exists for other methods → 405 with Allow (or 426 on a WebSocket-only path); otherwise 404. */
  #notFoundOrNotAllowed(method: string, segments: string[]): RouteResponse {
    const node = findNode(this.#root, segments, 1, [], WANT_ANY_ROUTE, method);
    if (node === undefined) return errorResponse(404);
    const allowed = node.httpRoutes === undefined ? [] : [...node.httpRoutes.keys()];
    if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
    if (node.webSocketRoute !== undefined) {
      if (method === 'GET' || method === 'HEAD') return errorResponse(426, { upgrade: 'websocket' });
      if (!allowed.includes('GET')) allowed.push('GET');
    }
    return errorResponse(405, { allow: allowed.join(', ') });
  }

  /** Compile a pattern into tree nodes; returns the final node and the parameter names in order. */
  #insert(pattern: string): { node: SegmentNode; parameterNames: string[] } {
    if (pattern.charCodeAt(0) !== 0x2f) throw new Error(`Router: pattern must start with "/": ${pattern}`);
    const segments = pattern.split('/');
    const parameterNames: string[] = [];
    let node = this.#root;
    for (let index = 1; index < segments.length; index++) {
      const segment = segments[index]!;
      if (segment.startsWith(':')) {
        if (segment.length === 1) throw new Error(`Router: unnamed parameter in ${pattern}`);
        parameterNames.push(segment.slice(1));
        node = node.parameterChild ??= new SegmentNode();
      } else if (segment.startsWith('*')) {
        if (index !== segments.length - 1) throw new Error(`Router: wildcard must be the last segment in ${pattern}`);
        parameterNames.push(segment.length > 1 ? segment.slice(1) : 'wildcard');
        node = node.wildcardChild ??= new SegmentNode();
      } else {
        node.staticChildren ??= new Map();
        let child = node.staticChildren.get(segment);
        if (child === undefined) {
          child = new SegmentNode();
          node.staticChildren.set(segment, child);
        }
        node = child;
      }
    }
    return { node, parameterNames };
  }
}

/** A handler that returns nothing usable is a bug in the handler: answer 500 rather than send garbage. */
function checkResponse(method: string, path: string, response: RouteResponse): RouteResponse {
  if (typeof response !== 'object' || response === null) {
    logHandlerFailure(method, path, new TypeError('handler returned no response object'));
    return errorResponse(500);
  }
  return response;
}
