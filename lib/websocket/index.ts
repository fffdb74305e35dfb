// The WebSocket library's public face: everything an application needs, from one import.

export { acceptWebSocket, refuseUpgrade, WebSocketServer, type WebSocketServerOptions, type AcceptOptions, type UpgradeRequest, type ConnectionHandler } from './server.ts';
export { connect, HandshakeError, type ConnectOptions } from './client.ts';
export { WebSocketConnection, ReadyState, type ConnectionOptions, type HeartbeatOptions } from './connection.ts';
export { broadcast } from './broadcast.ts';
export { PreparedMessage } from './prepared-message.ts';
export { CloseCode, isWireCloseCode } from './close-codes.ts';
export { WebSocketError } from './errors.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export type { PerMessageDeflateOptions } from './permessage-deflate/options.ts';
export { acceptKey } from './handshake.ts';
