// The thin runtime under the team manager: it executes the state machine's commands with our
// WebSocket client and Node timers, and turns socket and timer happenings back into events.
// It keeps a table of every socket and timer it started, so a finished run leaves nothing behind.

import { connect, HandshakeError, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { TeamManager, timerKey, type LogLevel, type ManagerCommand, type ManagerEvent, type ManagerOptions } from './manager.ts';
import type { TeamId, TeamStats } from './wire.ts';

export type Logger = (level: LogLevel, text: string) => void;

export interface TeamManagerRunOptions extends ManagerOptions {
  log?: Logger;
  /** Opening handshake limit for every connection (default 5 s). */
  handshakeTimeoutMs?: number;
  /** How long a closing connection may take before it is cut (default 2 s). */
  closeTimeoutMs?: number;
}

export interface TeamManagerRun {
  /** Settles with the exit code once the run is finished and every socket is closed. */
  done: Promise<number>;
  /** Close everything now (for SIGINT/SIGTERM). */
  stop(reason: string): void;
  stats(): TeamStats[];
  /** Sockets open or opening right now (0 once `done` has settled). */
  openSockets(): number;
}

/** Incoming messages larger than this close the connection with 1009: the API's messages are small. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export function runTeamManager(options: TeamManagerRunOptions): TeamManagerRun {
  const log: Logger = options.log ?? (() => {});
  const manager = new TeamManager(options);
  const connections = new Map<number, WebSocketConnection>();
  /** Connections still in their opening handshake; `true` once the machine no longer wants them. */
  const opening = new Map<number, boolean>();
  const timers = new Map<string, NodeJS.Timeout>();
  let exitCode: number | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const connectOptions = {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
    closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
    maxMessageBytes: MAX_MESSAGE_BYTES,
  };

  function dispatch(event: ManagerEvent): void {
    let commands: ManagerCommand[];
    try {
      commands = manager.handle(event);
    } catch (error) {
      // A bug in the state machine must not take every team down with it: report it and carry on.
      log('error', `internal error on ${event.type}: ${(error as Error).stack ?? String(error)}`);
      return;
    }
    for (const command of commands) execute(command);
  }

  function execute(command: ManagerCommand): void {
    switch (command.type) {
      case 'openGlobal': open(command.connectionId, command.url, undefined); break;
      case 'openTeam': open(command.connectionId, command.url, command.teamId); break;
      case 'send': connections.get(command.connectionId)?.send(JSON.stringify(command.message)); break;
      case 'close': closeConnection(command.connectionId, command.code, command.reason); break;
      case 'terminate':
        if (opening.has(command.connectionId)) opening.set(command.connectionId, true);
        connections.get(command.connectionId)?.terminate();
        break;
      case 'startTimer': startTimer(command); break;
      case 'cancelTimer': {
        const key = timerKey(command.timer);
        clearTimeout(timers.get(key));
        timers.delete(key);
        break;
      }
      case 'log': log(command.level, command.text); break;
      case 'finish': finish(command.exitCode); break;
    }
  }

  function open(connectionId: number, url: string, teamId: TeamId | undefined): void {
    opening.set(connectionId, false);
    connect(url, connectOptions).then(
      (connection) => {
        const unwanted = opening.get(connectionId) === true || exitCode !== undefined;
        opening.delete(connectionId);
        connections.set(connectionId, connection);
        connection.on('error', (error) => log('debug', `connection ${connectionId}: ${error.message}`));
        connection.once('close', (code, reason) => {
          connections.delete(connectionId);
          if (teamId === undefined) dispatch({ type: 'globalClosed', connectionId, code, reason });
          else dispatch({ type: 'teamClosed', teamId, connectionId, code, reason });
          settleIfIdle();
        });
        if (unwanted) {
          connection.close(1000, 'no longer needed');
          return;
        }
        connection.on('message', (data, isBinary) => {
          const text = isBinary ? '' : data.toString('utf8');
          if (teamId === undefined) dispatch({ type: 'globalMessage', connectionId, text, isBinary });
          else dispatch({ type: 'teamMessage', teamId, connectionId, text, isBinary });
        });
        if (teamId === undefined) dispatch({ type: 'globalOpened', connectionId });
        else dispatch({ type: 'teamOpened', teamId, connectionId });
      },
      (error: unknown) => {
        opening.delete(connectionId);
        const reason = error instanceof Error ? error.message : String(error);
        const statusCode = error instanceof HandshakeError ? error.statusCode : undefined;
        if (teamId === undefined) dispatch({ type: 'globalOpenFailed', connectionId, reason });
        else dispatch({ type: 'teamOpenFailed', teamId, connectionId, reason, ...(statusCode === undefined ? {} : { statusCode }) });
        settleIfIdle();
      },
    );
  }

  function closeConnection(connectionId: number, code: number, reason: string): void {
    if (opening.has(connectionId)) opening.set(connectionId, true);
    connections.get(connectionId)?.close(code, reason);
  }

  function startTimer(command: Extract<ManagerCommand, { type: 'startTimer' }>): void {
    const key = timerKey(command.timer);
    clearTimeout(timers.get(key));
    const timer = setTimeout(() => {
      timers.delete(key);
      dispatch({ type: 'timerFired', timer: command.timer });
    }, command.delayMs);
    timers.set(key, timer);
  }

  function finish(code: number): void {
    if (exitCode !== undefined) return;
    exitCode = code;
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    for (const connectionId of opening.keys()) opening.set(connectionId, true);
    for (const connection of connections.values()) connection.close(1000, 'goodbye');
    settleIfIdle();
  }

  function settleIfIdle(): void {
    if (exitCode !== undefined && connections.size === 0 && opening.size === 0) resolveDone(exitCode);
  }

  dispatch({ type: 'start' });
  return {
    done,
    stop(reason) {
      // Asked twice (a second Ctrl-C while closing): stop waiting for close handshakes.
      if (exitCode !== undefined) for (const connection of connections.values()) connection.terminate();
      else dispatch({ type: 'shutdown', reason });
    },
    stats: () => manager.stats(),
    openSockets: () => connections.size + opening.size,
  };
}
