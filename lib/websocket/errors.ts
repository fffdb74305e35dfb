// Errors of the WebSocket layer: each carries a machine-readable code and the close status it maps to
// (RFC 6455 §7.4.1), so a failure can be reported to the application and to the peer alike.

export type WebSocketErrorCode =
  | 'INVALID_FRAME'
  | 'UNMASKED_FRAME'
  | 'MASKED_FRAME'
  | 'RESERVED_BITS'
  | 'RESERVED_OPCODE'
  | 'CONTROL_FRAME_TOO_LONG'
  | 'FRAGMENTED_CONTROL_FRAME'
  | 'UNEXPECTED_CONTINUATION'
  | 'EXPECTED_CONTINUATION'
  | 'INVALID_UTF8'
  | 'INVALID_CLOSE_PAYLOAD'
  | 'MESSAGE_TOO_BIG'
  | 'TOO_MANY_FRAGMENTS'
  | 'LENGTH_TOO_LARGE'
  | 'SEND_BUFFER_FULL'
  | 'HANDSHAKE_FAILED'
  | 'HANDSHAKE_TIMEOUT'
  | 'CLOSE_TIMEOUT'
  | 'HEARTBEAT_TIMEOUT'
  | 'SOCKET_ERROR'
  // permessage-deflate (RFC 7692): a stream that does not inflate (1007), zlib failing us (1011), and a
  // compressor or decompressor released while work was pending (the connection is closing: 1001).
  | 'INVALID_COMPRESSED_DATA'
  | 'COMPRESSION_FAILED'
  | 'COMPRESSION_RELEASED';

export class WebSocketError extends Error {
  override readonly name = 'WebSocketError';
  constructor(
    readonly code: WebSocketErrorCode,
    /** The close status this error is answered with (RFC 6455 §7.4.1). */
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
  }
}
