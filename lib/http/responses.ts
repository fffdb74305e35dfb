// Small builders for RouteResponse values, plus the reason phrase of each status code.
// RFC 9110 §15 (status codes) and §8.3 (Content-Type with charset for text bodies).
import type { RouteResponse } from './exchange.ts';

/** Reason phrases from RFC 9110 §15; the phrase is informational only, clients must ignore it. */
const REASON_PHRASES: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  421: 'Misdirected Request', 422: 'Unprocessable Content', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/** The reason phrase for a status code ("Not Found"), or "Unknown" for codes RFC 9110 does not name. */
export function statusText(code: number): string {
  return REASON_PHRASES[code] ?? 'Unknown';
}

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
