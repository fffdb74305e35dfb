// A message framed once for many receivers: RFC 6455 §5.6 data frames, server side (unmasked, §5.1).
// Broadcasting to a thousand sockets then costs one encoding and a thousand references to the same bytes.

import { encodeFrame } from './frame-encoder.ts';
import { Opcode } from './opcodes.ts';

export class PreparedMessage {
  /** The frame's bytes as a server sends them: header and payload, in one or two buffers. */
  readonly frame: readonly Buffer[];
  readonly payload: Buffer;
  readonly isBinary: boolean;

  constructor(data: string | Buffer, options: { binary?: boolean } = {}) {
    this.isBinary = options.binary ?? typeof data !== 'string';
    this.payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.frame = encodeFrame(this.isBinary ? Opcode.Binary : Opcode.Text, this.payload);
  }
}
