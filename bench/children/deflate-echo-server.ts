// Child process: an echo server with permessage-deflate on (`ours` or `ws`), both with the same
// parameters: window 15, context takeover both ways, zlib level 6 and memLevel 8, every message
// compressed (threshold 0). Reports its port, then stays up until the orchestrator stops it.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer } from 'ws';
import { report, runChild } from '../processes.ts';
import { startEchoServer } from '../../servers/echo/server.ts';

runChild(async () => {
  const kind = process.argv[2];
  let port: number;
  if (kind === 'ours') {
    port = (await startEchoServer({ perMessageDeflate: { threshold: 0, level: 6, memLevel: 8 } })).port;
  } else {
    const server = createServer();
    const wss = new WsServer({ server, perMessageDeflate: { threshold: 0, zlibDeflateOptions: { level: 6, memLevel: 8 } } });
    wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  report({ type: 'ready', port });
  await new Promise(() => {});
});
