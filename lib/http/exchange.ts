// What a handler receives and returns on either HTTP stack (the raw server and node:http through the router).
// Its own file so that the router, the response builders and the serializer all depend on it, and not on each other.

export interface RouteRequest {
  method: string;                       // upper-case
  path: string;                         // raw path without the query string
  query: URLSearchParams;
  headers: Record<string, string>;      // lower-case names; repeated headers joined with ", " (cookie with "; ")
  body: Buffer;
  params: Record<string, string>;       // named path parameters, percent-decoded
  remoteAddress?: string;
  /** The request-target exactly as received ("/search?q=a%20b"), when the stack knows it. */
  target?: string;
  /** "1.1" or "1.0", when the stack knows it. */
  httpVersion?: string;
}

/** status defaults to 200; a string body is sent as UTF-8. */
export interface RouteResponse { status?: number; headers?: Record<string, string>; body?: string | Buffer }
