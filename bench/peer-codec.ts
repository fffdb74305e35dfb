// Typed access to the `ws` package's own frame codec (its Receiver and Sender), which @types/ws does not
// declare. Only what the codec micro-benchmarks call.

import { createRequire } from 'node:module';

export interface PeerReceiver {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

export interface PeerFrameOptions { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }

const require = createRequire(import.meta.url);

// The package exports them as properties of its main export (lib/receiver.js itself is not an exported path).
const ws = require('ws') as {
  Receiver: new (options: { isServer: boolean; maxPayload?: number }) => PeerReceiver;
  Sender: { frame(data: Buffer, options: PeerFrameOptions): Buffer[] };
};

export const PeerReceiverClass = ws.Receiver;
export const PeerSender = ws.Sender;
