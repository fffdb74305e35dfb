// Broadcast: one message to many connections, framed once (RFC 6455 §5.6; the prepared-message idea).

import type { WebSocketConnection } from './connection.ts';
import { PreparedMessage } from './prepared-message.ts';

/**
 * Send `data` to every open connection in `connections`. Returns how many connections the message
 * was written to (a connection that is closing is skipped). Slow readers are not waited for: each
 * connection's own buffer cap decides what happens to them.
 */
export function broadcast(connections: Iterable<WebSocketConnection>, data: string | Buffer | PreparedMessage, options: { binary?: boolean } = {}): number {
  const message = data instanceof PreparedMessage ? data : new PreparedMessage(data, options);
  let delivered = 0;
  for (const connection of connections) {
    if (connection.sendPrepared(message) || connection.readyState === 1) delivered++;
  }
  return delivered;
}
