// ws's own permessage-deflate pieces, for checking ours against a widely used implementation (tests only).
// ws does not export these files, so they are loaded by path from its installed package.

import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const wsLib = path.join(path.dirname(require.resolve('ws')), 'lib');

export interface WsPerMessageDeflate {
  offer(): Record<string, unknown>;
  accept(configurations: Record<string, unknown>[]): Record<string, unknown>;
  compress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void;
  cleanup(): void;
}

export const WsPerMessageDeflate: new (options: Record<string, unknown>) => WsPerMessageDeflate = require(
  path.join(wsLib, 'permessage-deflate.js'),
);

export const wsExtension: {
  parse(header: string): Record<string, Record<string, (string | true)[]>[]>;
  format(extensions: Record<string, unknown>): string;
} = require(path.join(wsLib, 'extension.js'));
