// Sends a RouteResponse on a socket that closes after it: what the router answers when it refuses an upgrade.
// The head itself is built in lib/http-common/response-head.ts (RFC 9112 §4), shared with the WebSocket side.
import type { Duplex } from 'node:stream';
import type { RouteResponse } from './exchange.ts';
import { errorResponse } from './responses.ts';
import { writeClosingResponse } from '../http-common/response-head.ts';

/**
 * Write a whole response on a socket that is about to be closed (refused upgrades, protocol errors),
 * then end it and destroy it once the bytes are flushed. A response that cannot be sent becomes a 500.
 */
export function writeResponseAndClose(socket: Duplex, response: RouteResponse): void {
  if (writeClosingResponse(socket, response.status ?? 200, response.headers, response.body ?? '')) return;
  const fallback = errorResponse(500);
  writeClosingResponse(socket, 500, fallback.headers, fallback.body!);
}
