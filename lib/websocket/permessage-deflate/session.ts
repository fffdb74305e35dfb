// One connection's permessage-deflate, once negotiated (RFC 7692 §6, §7.2): the compressor for what it
// sends and the decompressor for what it receives, each set from its side of the agreement
// (negotiation.ts), plus the local threshold below which a message goes out uncompressed.
// Nothing here touches frames: the caller sets RSV1 on the first frame of a compressed message (§6).

import { MessageDeflater } from './deflater.ts';
import { MessageInflater, type InflateOutput } from './inflater.ts';
import { directionSettings, type PerMessageDeflateParams } from './negotiation.ts';
import type { ResolvedPerMessageDeflateOptions } from './options.ts';
import type { ZlibLimiter } from './zlib-limiter.ts';

export class PerMessageDeflateSession {
  readonly deflater: MessageDeflater;
  readonly inflater: MessageInflater;
  private readonly threshold: number;

  constructor(
    readonly params: PerMessageDeflateParams,
    role: 'server' | 'client',
    options: ResolvedPerMessageDeflateOptions,
    maxMessageBytes: number,
    onInflated: InflateOutput,
    limiter?: ZlibLimiter,
  ) {
    const { outgoing, incoming } = directionSettings(params, role);
    this.deflater = new MessageDeflater({ ...outgoing, level: options.level, memLevel: options.memLevel }, limiter);
    this.inflater = new MessageInflater({ ...incoming, maxMessageBytes }, onInflated, limiter);
    this.threshold = options.threshold;
  }

  /** Is a message of this size worth compressing? Below the threshold it is sent as is (RSV1 clear). */
  shouldCompress(byteLength: number): boolean {
    return byteLength >= this.threshold;
  }

  /** Free both zlib states now (the connection is closing); pending work resolves COMPRESSION_RELEASED. */
  release(): void {
    this.deflater.release();
    this.inflater.release();
  }
}
