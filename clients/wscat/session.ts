// A wscat session: connects, then ties a stream of typed lines (node:readline) to a WebSocket
// connection and prints what comes back. Streams are parameters, so tests drive it without a terminal.

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { connect, HandshakeError, type ConnectOptions, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { formatWireEvent } from '../../lib/websocket/wire-format.ts';
import { COMMANDS_HELP, exitStatusForClose, formatClose, formatControlFrame, formatMessage, parseCommand } from './commands.ts';

export interface SessionOptions {
  url: string;
  protocols: string[];
  headers: Record<string, string>;
  insecure: boolean;
  input: Readable;
  /** Messages received go here… */
  output: Writable;
  /** …and status lines (connected, closed, errors) here. */
  status: Writable;
  handshakeTimeoutMs?: number;
  /** Print the handshake and every frame both ways, decoded field by field, on `output`. */
  trace?: boolean;
  /** Offer permessage-deflate (RFC 7692). */
  deflate?: boolean;
}

export interface Session {
  /** Resolves with the exit status once the connection is closed (or could not be opened). */
  finished: Promise<number>;
  /** Start the close handshake (SIGINT); a second call cuts the connection. */
  interrupt(): void;
}

/** Who sent what, as the client sees it. */
const WIRE_LABELS = { in: 'server→client', out: 'client→server' };

export function startSession(options: SessionOptions): Session {
  let connection: WebSocketConnection | undefined;
  let interrupted = false;
  let finish: (status: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const say = (line: string) => options.status.write(line + '\n');

  const connectOptions: ConnectOptions = {
    protocols: options.protocols,
    headers: options.headers,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    tls: options.insecure ? { rejectUnauthorized: false } : undefined,
    trace: options.trace ? (event) => options.output.write(formatWireEvent(event, WIRE_LABELS) + '\n') : undefined,
    perMessageDeflate: options.deflate === true,
  };
  connect(options.url, connectOptions).then(
    (opened) => {
      connection = opened;
      if (interrupted) {
        opened.close(1000);
      }
      say(`* connected to ${options.url}${opened.protocol ? ` (subprotocol: ${opened.protocol})` : ''}${opened.extensions ? ` (extensions: ${opened.extensions})` : ''} — type /help for commands`);
      run(opened, options, say, finish);
    },
    (error: unknown) => {
      // A refusal's message carries the status and the server's reason: "server refused: 403 Forbidden — origin not allowed".
      say(`* handshake failed: ${error instanceof Error ? error.message : String(error)}`);
      finish(1);
    },
  );

  return {
    finished,
    interrupt() {
      if (!connection) {
        interrupted = true;
        return;
      }
      if (connection.readyState === 1) connection.close(1000);
      else connection.terminate();
    },
  };
}

function run(connection: WebSocketConnection, options: SessionOptions, say: (line: string) => void, finish: (status: number) => void): void {
  const lines = createInterface({ input: options.input, terminal: false });
  /** A close the user asked for with /close ends normally, whatever code they chose. */
  let closedByUser = false;

  connection.on('message', (data, isBinary) => options.output.write(formatMessage(data, isBinary) + '\n'));
  connection.on('ping', (payload) => options.output.write(formatControlFrame('ping', payload) + '\n'));
  connection.on('pong', (payload) => options.output.write(formatControlFrame('pong', payload) + '\n'));
  connection.on('error', (error) => say(`* error: ${error.message}`));
  connection.on('close', (code, reason, wasClean) => {
    say(formatClose(code, reason, wasClean));
    lines.close();
    finish(closedByUser && wasClean ? 0 : exitStatusForClose(code, wasClean));
  });

  lines.on('line', (line) => {
    if (connection.readyState !== 1) return say('* not sent: the connection is closing');
    const command = parseCommand(line);
    switch (command.kind) {
      case 'text':
        connection.send(command.text);
        break;
      case 'binary':
        connection.send(command.data);
        break;
      case 'ping':
        connection.ping(command.payload);
        break;
      case 'close':
        closedByUser = true;
        connection.close(command.code, command.reason);
        break;
      case 'help':
        say(COMMANDS_HELP);
        break;
      case 'invalid':
        say(`* ${command.message}`);
        break;
    }
  });
  // End of input (a pipe or Ctrl-D): say goodbye properly.
  lines.on('close', () => {
    if (connection.readyState === 1) connection.close(1000);
  });
}
