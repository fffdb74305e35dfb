// The wire inspector's tap: watches the bytes a socket reads and writes and feeds them, in order, to one
// WireDecoder per direction (wire-trace.ts). Used only when a program asks for a trace (`--trace`, the
// /wire/ page): it wraps the socket's write and end, and reads each chunk before the connection does.

import type { Duplex } from 'node:stream';
import type { Role } from './protocol.ts';
import { WireDecoder, type WireEvent } from './wire-trace.ts';

export type WireListener = (event: WireEvent) => void;

export interface WireTap {
  /** Bytes that reached us some other way than a 'data' event (the server's `head` after the upgrade). */
  incoming: WireDecoder;
}

/**
 * Tap `socket` for `role`. A client sees both HTTP heads on its own socket; a server's socket is tapped
 * after its HTTP server has read the request, so its incoming side starts at the first frame.
 */
export function tapSocket(socket: Duplex, role: Role, listener: WireListener): WireTap {
  const isClient = role === 'client';
  const incoming = new WireDecoder({ direction: 'in', masked: !isClient, httpHead: isClient }, listener);
  const outgoing = new WireDecoder({ direction: 'out', masked: isClient, httpHead: true }, listener);

  socket.prependListener('data', (chunk: Buffer) => incoming.push(chunk));
  const write = socket.write;
  const end = socket.end;
  // Writable.end(chunk) does not go through this.write, so both are wrapped.
  socket.write = function tappedWrite(this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    outgoing.push(asBuffer(chunk, rest[0]));
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
  socket.end = function tappedEnd(this: Duplex, chunk?: unknown, ...rest: unknown[]): Duplex {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') outgoing.push(asBuffer(chunk, rest[0]));
    return (end as (...args: unknown[]) => Duplex).call(this, chunk, ...rest);
  } as Duplex['end'];
  return { incoming };
}

function asBuffer(chunk: unknown, encoding: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.alloc(0);
}
