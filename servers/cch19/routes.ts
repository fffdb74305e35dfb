// Day 19 on the Router: the ping game and the bird app as WebSocket routes, the view counter as
// HTTP routes, and the bird app's pages under /19/. The protocol logic lives in ping-game.ts and
// bird-app.ts; this file only joins it to sockets.

import { fileURLToPath } from 'node:url';
import type { RouteRequest, RouteResponse, Router } from '../../lib/http/router.ts';
import { text } from '../../lib/http/responses.ts';
import { CloseCode, PreparedMessage, ReadyState, WebSocketServer, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { BirdApp, type RoomMember } from './bird-app.ts';
import { PingGame } from './ping-game.ts';
import type { Day19Sharing } from './sharing.ts';
import { serveStaticFiles } from './static-files.ts';
import { roomKey } from './tweets.ts';

/**
 * Per-socket send buffer cap. The validator's heaviest run — 20 users × 200 tweets, nobody reading —
 * queues 4,000 tweets of ~60–200 bytes (at most ~1 KiB) for each socket: 0.25–0.8 MiB, 4 MiB at worst.
 * 16 MiB leaves a wide margin; a peer that lets more pile up is cut (reported as 1008) and leaves its room.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Incoming messages bigger than this close the socket with 1009; smaller invalid ones are ignored. */
const MAX_INCOMING_MESSAGE_BYTES = 64 * 1024;

export interface Day19Options {
  /** See DEFAULT_MAX_BUFFERED_BYTES. */
  maxBufferedBytes?: number;
  /** Serve the bird app's pages under /19/ (default true). */
  pages?: boolean;
  /** Share rooms and the view count with other processes (the caller owns and closes it). Default: this process alone. */
  sharing?: Day19Sharing;
  /**
   * Accept permessage-deflate on the room sockets (default off: a tweet is at most 128 characters,
   * ~200 bytes of JSON, so compression saves little and costs zlib memory per member). When on, every
   * tweet is compressed (threshold 0) and the server keeps no context between messages, so a tweet is
   * compressed once and the same frame goes to every member (PreparedMessage.compressedFrame).
   */
  perMessageDeflate?: boolean;
}

export interface Day19 {
  readonly birdApp: BirdApp<PreparedMessage>;
  /** Open WebSockets on day 19's routes. */
  readonly connectionCount: number;
  /** Refuse new sockets (503), close the open ones with 1001 and wait until they are gone. */
  close(): Promise<void>;
}

export const PUBLIC_DIRECTORY = fileURLToPath(new URL('./public/', import.meta.url));

/** Register every day-19 route on `router`. */
export function registerDay19(router: Router, options: Day19Options = {}): Day19 {
  const sharing = options.sharing;
  const birdApp = new BirdApp((tweet) => new PreparedMessage(tweet), sharing);
  sharing?.attach(birdApp);
  const connections = new WebSocketServer();
  let closing = false;
  const acceptOptions = {
    maxMessageBytes: MAX_INCOMING_MESSAGE_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    perMessageDeflate: options.perMessageDeflate ? { serverNoContextTakeover: true, threshold: 0 } : undefined,
    // No heartbeat: the validator fails on any frame it did not ask for, pings included.
  };
  const refuseWhileClosing = (): RouteResponse | undefined => (closing ? text('server shutting down\n', 503) : undefined);

  router.ws('/19/ws/ping', (connection) => {
    connections.track(connection);
    playPing(connection);
  }, { ...acceptOptions, beforeUpgrade: refuseWhileClosing });

  router.ws('/19/ws/room/:room/user/:user', (connection, request) => {
    connections.track(connection);
    joinRoom(birdApp, connection, request);
  }, {
    ...acceptOptions,
    beforeUpgrade: (request) => {
      if (roomKey(request.params.room ?? '') === undefined) return text('room must be a non-negative integer\n', 404);
      return refuseWhileClosing();
    },
  });

  if (sharing === undefined) {
    router.post('/19/reset', () => {
      birdApp.resetViews();
      return text('');
    });
    router.get('/19/views', () => text(String(birdApp.views)));
  } else {
    router.post('/19/reset', async () => ((await sharing.reset()) ? text('') : text('the shared view count is unreachable; try again\n', 503)));
    router.get('/19/views', async () => text(String(await sharing.views())));
  }

  if (options.pages ?? true) {
    serveStaticFiles(router, '/19/', PUBLIC_DIRECTORY);
    router.get('/19', () => ({ status: 308, headers: { location: '/19/' }, body: '' }));
  }

  return {
    birdApp,
    get connectionCount() {
      return connections.connections.size;
    },
    async close() {
      closing = true;
      await connections.closeAll(CloseCode.GoingAway, 'server shutting down');
    },
  };
}

function playPing(connection: WebSocketConnection): void {
  const game = new PingGame();
  connection.on('message', (data, isBinary) => {
    const reply = game.receive(data, isBinary);
    if (reply !== undefined) connection.send(reply);
  });
}

function joinRoom(birdApp: BirdApp<PreparedMessage>, connection: WebSocketConnection, request: RouteRequest): void {
  const room = roomKey(request.params.room ?? '')!;
  const author = request.params.user ?? '';
  const member: RoomMember<PreparedMessage> = {
    deliver(frame) {
      if (connection.readyState !== ReadyState.Open) return false;
      // Past the high-water mark sendPrepared answers false but the tweet is queued all the same:
      // slow readers are never waited for, and the buffer cap decides when one is cut.
      connection.sendPrepared(frame);
      return true;
    },
  };
  birdApp.join(room, member);
  connection.once('close', () => birdApp.leave(room, member));
  connection.on('message', (data, isBinary) => {
    birdApp.receive(room, author, data, isBinary);
  });
}
