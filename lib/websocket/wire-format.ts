// The wire inspector's text layout for terminals (`npm run wscat -- --trace`, `npm run echo -- --trace`):
// each frame as a few lines that echo RFC 6455 §5.2's diagram — the first two header bytes as bits, split
// into FIN | RSV1 RSV2 RSV3 | opcode and MASK | payload len, then the extended length, the masking key and
// the first payload bytes as they travelled and unmasked.

import type { TracedFrame, WireEvent } from './wire-trace.ts';

const ARROWS = { in: '<<', out: '>>' } as const;

export function formatWireEvent(event: WireEvent, label: { in: string; out: string } = { in: 'in', out: 'out' }): string {
  if (event.kind === 'http') {
    return [`${ARROWS[event.direction]} ${label[event.direction]} HTTP`, ...event.lines.map((line) => `   ${line}`)].join('\n');
  }
  if (event.kind === 'invalid') return `${ARROWS[event.direction]} ${label[event.direction]} not a valid frame: ${event.reason}`;
  return formatFrame(event.frame, label[event.frame.direction]);
}

export function formatFrame(frame: TracedFrame, label: string): string {
  const bit = (on: boolean): string => (on ? '1' : '0');
  const lines = [
    `${ARROWS[frame.direction]} ${label} frame: FIN ${bit(frame.fin)} · RSV ${bit(frame.rsv1)}${bit(frame.rsv2)}${bit(frame.rsv3)} · ` +
      `opcode 0x${frame.opcode.toString(16)} ${frame.opcodeName} · MASK ${bit(frame.masked)} · ` +
      `length ${frame.payloadLength} (${lengthFormText(frame.lengthBits)})`,
    `   bits    ${headerBits(frame.headerBytes, frame.lengthBits)}`,
  ];
  if (frame.masked) lines.push(`   key     ${hex(frame.maskKey)}`);
  if (frame.payloadLength > 0) {
    const more = frame.payloadLength > frame.payload.length ? ' …' : '';
    if (frame.masked) lines.push(`   masked  ${hex(frame.payloadOnWire)}${more}`);
    lines.push(`   payload ${hex(frame.payload)}${more}  ${printable(frame.payload)}${more === '' ? '' : '…'}`);
  }
  return lines.join('\n');
}

export function lengthFormText(bits: 7 | 16 | 64): string {
  return bits === 7 ? '7-bit form' : bits === 16 ? '16-bit form: 126 + 2 bytes' : '64-bit form: 127 + 8 bytes';
}

/** "1 000 0001 | 1 1111110 | <extended length bits>": byte 0 and byte 1 cut along the RFC's field lines. */
function headerBits(header: Buffer, lengthBits: 7 | 16 | 64): string {
  const binary = (byte: number): string => byte.toString(2).padStart(8, '0');
  const first = binary(header[0]);
  const second = binary(header[1]);
  const fields = [`${first[0]} ${first.slice(1, 4)} ${first.slice(4)}`, `${second[0]} ${second.slice(1)}`];
  const extension = lengthBits === 16 ? 2 : lengthBits === 64 ? 8 : 0;
  if (extension > 0) fields.push([...header.subarray(2, 2 + extension)].map(binary).join(' '));
  return fields.join(' | ');
}

function hex(bytes: Buffer): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/** The shown bytes as text, when they are printable ASCII/UTF-8; quoted, with escapes for the rest. */
function printable(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('utf8').replace(/\uFFFD$/u, ''));
}
