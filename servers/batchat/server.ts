// BATCHAT over raw TCP (node:net): one ChatSession per connection, plus the limits that
// keep a server alive among misbehaving clients (user count, per-user output buffer,
// name-prompt timeout) and a shutdown that says goodbye before closing.

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as say from './messages.ts';
import { ChatRoom, type Room } from './room.ts';
import { ChatSession } from './session.ts';
import type { LeaveReason, Peer } from './session.ts';

export interface BatchatOptions {
  /** TCP port; 0 picks a free one. Default 1337. */
  port?: number;
  /** Address to listen on. Default: every interface (IPv6 and IPv4). */
  host?: string;
  /** Open connections allowed at once, named or still at the prompt. Default 100. */
  maxUsers?: number;
  /** Longest line a user may send, in bytes; longer lines are cut. Default 1024. */
  maxLineBytes?: number;
  /** Output a user may leave unread before being disconnected, in bytes. Default 256 KiB. */
  maxOutputBytes?: number;
  /** Time to type a name before being disconnected, in ms; 0 waits forever. Default 60 s. */
  nameTimeoutMs?: number;
  /** How long a connection we have ended may take to close before we cut it, in ms. Default 5 s. */
  closeTimeoutMs?: number;
  /** Where to report connections and departures (never message contents). Default: silent. */
  log?: (message: string) => void;
  /** The chat to join: a room shared with other processes (shared-room.ts). Default: a room of this server alone. */
  room?: Room;
}

export interface BatchatServer {
  readonly port: number;
  /** Tells every user the server is going down, closes their connections, stops listening. */
  close(): Promise<void>;
}

const CRLF = '\r\n';

export async function startBatchat(options: BatchatOptions = {}): Promise<BatchatServer> {
  const maxUsers = options.maxUsers ?? 100;
  const maxLineBytes = options.maxLineBytes ?? 1024;
  const maxOutputBytes = options.maxOutputBytes ?? 256 * 1024;
  const nameTimeoutMs = options.nameTimeoutMs ?? 60_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const log = options.log ?? (() => {});
  // Checked here, once, so a bad setting fails the caller's start rather than the first connection.
  const limits = { maxUsers, maxLineBytes, maxOutputBytes, nameTimeoutMs, closeTimeoutMs };
  for (const [name, value] of Object.entries(limits)) {
    const least = name === 'nameTimeoutMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < least) {
      throw new RangeError(`startBatchat: ${name} must be an integer >= ${least}, got ${value}`);
    }
  }

  const room = options.room ?? new ChatRoom();
  const sessions = new Set<ChatSession>();
  // Every socket, including those turned away because the server is full, so close() can end them all.
  const sockets = new Set<net.Socket>();
  let closing: Promise<void> | undefined;

  // end() waits for the client to read our last bytes and close its side; one that
  // never does must not hold the connection (and its buffers) forever.
  const closeWithin = (socket: net.Socket, ms: number): void => {
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => clearTimeout(timer));
  };

  const server = net.createServer((socket) => {
    const who = `${socket.remoteAddress}:${socket.remotePort}`;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset connection emits 'error' and then 'close'; 'close' is where we clean up.
    socket.on('error', (error) => log(`${who}: ${error.message}`));
    socket.setNoDelay(true); // chat lines are small and should go out at once

    if (closing) {
      socket.destroy();
      return;
    }
    if (sessions.size >= maxUsers) {
      log(`${who}: turned away, ${maxUsers} users already connected`);
      socket.end(say.serverFull(maxUsers) + CRLF);
      closeWithin(socket, closeTimeoutMs);
      return;
    }

    let closeReason: LeaveReason = 'disconnected';
    const peer: Peer = {
      write(data) {
        if (socket.destroyed || socket.writableEnded) return;
        socket.write(data);
        // Node buffers whatever the kernel won't take; a user who stops reading would make
        // that buffer grow with every line anyone says. Past the cap, we let them go.
        if (socket.writableLength > maxOutputBytes) {
          closeReason = 'too-slow';
          socket.destroy();
        }
      },
      end() {
        if (socket.destroyed) return;
        if (!socket.writableEnded) socket.end();
        closeWithin(socket, closeTimeoutMs);
      },
    };
    const session = new ChatSession(room, peer, maxLineBytes);
    sessions.add(session);
    log(`${who}: connected`);

    const nameTimer =
      nameTimeoutMs > 0
        ? setTimeout(() => {
            if (session.state === 'naming') session.leave('name-timeout', say.nameTimedOut(nameTimeoutMs / 1000));
          }, nameTimeoutMs)
        : undefined;

    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('end', () => session.receiveEnd());
    socket.once('close', () => {
      clearTimeout(nameTimer);
      sessions.delete(session);
      session.leave(closeReason); // no-op if the session already ended, e.g. after /quit
      const name = session.name === '' ? '' : ` (${session.name})`;
      log(`${who}${name}: left, ${session.leftBecause}`);
    });

    session.start();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 1337, host: options.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listen succeeded, errors are per-connection (handled above) or fatal accept
  // failures such as EMFILE; log those rather than crash every user's session.
  server.on('error', (error) => log(`server: ${error.message}`));

  const port = (server.address() as AddressInfo).port;

  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.leave('shutdown', say.SHUTTING_DOWN);
        for (const socket of sockets) closeWithin(socket, closeTimeoutMs);
      });
      return closing;
    },
  };
}
