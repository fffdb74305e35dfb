// The WebSocket servers under test, one per kind, each started on a free loopback port:
// ours (servers/echo on our raw HTTP server, the project's library), the `ws` package, and a raw node:net
// echo (the ceiling).

import { createHash } from 'node:crypto';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import { startEchoServer } from '../../servers/echo/server.ts';

export type EchoKind = 'ours' | 'ws' | 'raw';

export interface RunningServer {
  port: number;
  /** Connections currently open (for the memory section's sanity check). */
  connectionCount(): number;
}

export async function startEcho(kind: EchoKind): Promise<RunningServer> {
  if (kind === 'ours') {
    // The project's own stack end to end: our raw HTTP/1.1 server hands the upgrade to our WebSocket code.
    const server = await startEchoServer({ port: 0, host: '127.0.0.1', stack: 'raw' });
    return { port: server.port, connectionCount: () => server.websockets.connections.size };
  }
  if (kind === 'ws') {
    const server = new WsServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return { port: (server.address() as AddressInfo).port, connectionCount: () => server.clients.size };
  }
  return startRawEcho();
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * The ceiling for anything on Node: answer the upgrade with a minimal hand-made 101, then pipe the
 * socket into itself. The generator's masked frames come back as they are; it counts them all the same.
 */
async function startRawEcho(): Promise<RunningServer> {
  let open = 0;
  const server = net.createServer({ noDelay: true }, (socket) => {
    open++;
    socket.once('close', () => open--);
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    socket.on('data', function onHead(chunk: Buffer) {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onHead);
      const request = head.subarray(0, end).toString('latin1');
      const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.write(rest);
      socket.pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connectionCount: () => open };
}

/** Heap and RSS after a full collection (the process must run with --expose-gc). */
export function measuredMemory(): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) for (let round = 0; round < 4; round++) collect();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external + usage.arrayBuffers };
}
