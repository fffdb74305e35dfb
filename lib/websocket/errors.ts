// Errors of the WebSocket layer: each carries a machine-readable code and the close status it maps to
// (RFC 6455 §7.4.1), so a failure can be reported to the application and to the peer alike.

export type WebSocketErrorCode =
  // The peer broke a framing rule (RFC 6455 §5, §8.1): answered with 1002, 1007, 1008 or 1009.
  | 'INVALID_LENGTH'
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
  // The connection went wrong around the protocol: a peer that does not read, answer or close in time.
  | 'SEND_BUFFER_FULL'
  | 'CLOSE_TIMEOUT'
  | 'HEARTBEAT_TIMEOUT'
  | 'SOCKET_ERROR'
  // An application listener threw: the connection is closed with 1011 "internal error"; `cause` is the exception.
  | 'APPLICATION_ERROR'
  // A bug of ours inside the parser: 1011 "internal error"; `cause` is the exception.
  | 'INTERNAL_ERROR'
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
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
