// The wire inspector page, /wire/ in `npm start`: a learner types a message in the browser and sees the
// frames exactly as this server received them (masked, with the key) and as it answered, drawn as the
// RFC 6455 §5.2 bit diagram, plus the opening handshake as the server read it.
//
// Two WebSockets per page:
//   /wire/trace         the side channel: the server sends {"type":"hello","id"} and then one JSON report per
//                       event seen on the traced connection; the page sends requests ({"type":"fragmented"},
//                       {"type":"ping"}) for frames a browser cannot make itself.
//   /wire/echo?id=ID    the traced connection: an echo server whose socket is tapped (lib/websocket/wire-tap.ts)
//                       and decoded by the project's own frame parser (lib/websocket/wire-trace.ts).
// Reports travel on the side channel so the traced connection carries only the learner's own frames.

import { randomBytes } from 'node:crypto';
import type { Router } from '../../lib/http/router.ts';
import { CloseCode, WebSocketServer, type WebSocketConnection } from '../../lib/websocket/index.ts';
import type { WireEvent } from '../../lib/websocket/wire-trace.ts';
import { serveStaticFiles } from '../cch19/static-files.ts';

const PUBLIC_DIRECTORY = new URL('./public/', import.meta.url).pathname;

/** Each open page holds two sockets; a public server caps how many pages can watch at once. */
const MAX_INSPECTORS = 100;
/** The largest message the traced echo accepts (the page's biggest preset is 70,000 bytes). */
const MAX_TRACED_MESSAGE_BYTES = 1024 * 1024;

export interface WireInspector {
  close(): Promise<void>;
}

/** What the page's JavaScript receives for one event: plain JSON, bytes as hex. */
export function wireEventJson(event: WireEvent): object {
  if (event.kind !== 'frame') return event;
  const frame = event.frame;
  return {
    kind: 'frame',
    direction: frame.direction,
    fin: frame.fin,
    rsv1: frame.rsv1,
    rsv2: frame.rsv2,
    rsv3: frame.rsv3,
    opcode: frame.opcode,
    opcodeName: frame.opcodeName,
    masked: frame.masked,
    maskKey: frame.maskKey.toString('hex'),
    payloadLength: frame.payloadLength,
    lengthBits: frame.lengthBits,
    headerBytes: frame.headerBytes.toString('hex'),
    payloadOnWire: frame.payloadOnWire.toString('hex'),
    payload: frame.payload.toString('hex'),
  };
}

export function registerWireInspector(router: Router): WireInspector {
  const connections = new WebSocketServer();
  /** Side channels by id; an echo connection finds its reporter here. */
  const sideChannels = new Map<string, WebSocketConnection>();
  const echoes = new Map<string, WebSocketConnection>();

  router.ws('/wire/trace', (channel) => {
    connections.track(channel);
    const id = randomBytes(9).toString('base64url');
    sideChannels.set(id, channel);
    channel.once('close', () => {
      sideChannels.delete(id);
      echoes.get(id)?.close(CloseCode.GoingAway, 'inspector closed');
    });
    channel.send(JSON.stringify({ type: 'hello', id }));
    channel.on('message', (data, isBinary) => {
      const echo = echoes.get(id);
      if (isBinary || echo === undefined) return;
      const request = parseRequest(data.toString());
      if (request === 'fragmented') sendFragmented(echo, 'a message in three frames');
      if (request === 'ping') echo.ping('are you there?');
    });
  }, {
    maxMessageBytes: 1024,
    beforeUpgrade: () => (sideChannels.size >= MAX_INSPECTORS ? { status: 503, body: 'too many inspectors open, try again later\n' } : undefined),
  });

  router.ws('/wire/echo', (echo, request) => {
    connections.track(echo);
    const id = request.query.get('id') ?? '';
    echoes.set(id, echo);
    echo.once('close', () => echoes.delete(id));
    echo.on('message', (data, isBinary) => echo.send(data, { binary: isBinary }));
  }, {
    maxMessageBytes: MAX_TRACED_MESSAGE_BYTES,
    beforeUpgrade: (request) => {
      const id = request.query.get('id') ?? '';
      if (!sideChannels.has(id)) return { status: 404, body: 'open /wire/trace first and use the id it sends\n' };
      if (echoes.has(id)) return { status: 409, body: 'this inspector already has a traced connection\n' };
      return undefined;
    },
    trace: (request) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const channel = sideChannels.get(url.searchParams.get('id') ?? '');
      if (channel === undefined) return undefined;
      return (event) => channel.send(JSON.stringify(wireEventJson(event)));
    },
  });

  serveStaticFiles(router, '/wire/', PUBLIC_DIRECTORY);
  router.get('/wire', () => ({ status: 308, headers: { location: '/wire/' }, body: '' }));

  return {
    async close() {
      await connections.closeAll(CloseCode.GoingAway, 'server shutting down');
    },
  };
}

function parseRequest(text: string): string | undefined {
  try {
    const request = JSON.parse(text) as { type?: unknown };
    return typeof request.type === 'string' ? request.type : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A browser never fragments what it sends, so the server shows fragmentation (§5.4) from its side: one
 * text message as three frames — text with FIN 0, continuation with FIN 0, continuation with FIN 1.
 */
function sendFragmented(connection: WebSocketConnection, text: string): void {
  const third = Math.ceil(text.length / 3);
  connection.sendFragments([text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)]);
}
