// Small builders for RouteResponse values. RFC 9110 §15 (status codes) and §8.3 (Content-Type with charset for text bodies).
import type { RouteResponse } from './exchange.ts';
import { statusText } from '../http-common/reason-phrases.ts';

/** A plain-text UTF-8 response. */
export function text(body: string, status = 200): RouteResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/** A JSON response; `value` goes through JSON.stringify. */
export function json(value: unknown, status = 200): RouteResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(value) };
}

/** An HTML response. The caller is responsible for escaping anything that came from the request. */
export function html(body: string, status = 200): RouteResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
}

/** The short text error answer both stacks send for protocol errors: "404 Not Found". */
export function errorResponse(status: number, headers?: Record<string, string>): RouteResponse {
  const response = text(`${status} ${statusText(status)}\n`, status);
  if (headers) Object.assign(response.headers!, headers);
  return response;
}
