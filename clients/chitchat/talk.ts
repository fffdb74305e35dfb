// One conversation with the chit-chat server over our WebSocket client: answer every ping with the
// nearest interval, collect the secret. The answer is sent inside the message handler and the log
// line is written on a later turn of the event loop, so a slow terminal never delays an answer.

import { performance } from 'node:perf_hooks';
import { printable } from '../../lib/cli.ts';
import { connect, HandshakeError, type WebSocketConnection } from '../../lib/websocket/index.ts';
import { PingAnswerer, type ServerLine } from './answerer.ts';

export interface TalkOptions {
  /** Wall-clock milliseconds per service millisecond (1 for hackattic; the stand-in's --time-scale otherwise). */
  timeScale?: number;
  log?: (line: string) => void;
  handshakeTimeoutMs?: number;
}

export type TalkResult = { ok: true; secret: string; rounds: number } | { ok: false; reason: string };

/** The longest quiet spell that is still a conversation: the longest interval twice, plus slack. */
function silenceLimitMs(timeScale: number): number {
  return 6000 * timeScale + 2000;
}

export async function talk(url: string, options: TalkOptions = {}): Promise<TalkResult> {
  const timeScale = options.timeScale ?? 1;
  const log = options.log ?? (() => {});
  let connection: WebSocketConnection;
  try {
    connection = await connect(url, { handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000 });
  } catch (error) {
    return { ok: false, reason: handshakeFailure(error) };
  }
  // connect() resolves in the same turn the 101 arrives: this is our best reading of the server's t0.
  const answerer = new PingAnswerer(performance.now(), timeScale);
  return converse(connection, answerer, timeScale, log);
}

function converse(connection: WebSocketConnection, answerer: PingAnswerer, timeScale: number, log: (line: string) => void): Promise<TalkResult> {
  return new Promise((resolve) => {
    let secret: string | undefined;
    let failure: string | undefined;
    let rounds = 0;
    /** The line of the ping answered last, printed with its verdict. */
    let unjudged: string | undefined;
    const later = (work: () => void): void => void setImmediate(work);

    let silence: NodeJS.Timeout | undefined;
    const watchSilence = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        failure = `the server said nothing for ${silenceLimitMs(timeScale)} ms`;
        connection.terminate();
      }, silenceLimitMs(timeScale));
    };
    watchSilence();

    connection.on('message', (data, isBinary) => {
      const now = performance.now();
      if (isBinary) {
        later(() => log(`  server sent ${data.length} bytes of binary; ignored`));
        return;
      }
      const text = data.toString('utf8');
      const line = answerer.read(text, now);
      if (line.kind === 'ping') connection.send(String(line.answer)); // before anything else
      watchSilence();
      if (line.kind === 'good') rounds++;
      if (line.kind === 'secret') {
        secret = line.secret;
        connection.close(1000, 'thanks');
      }
      if (line.kind === 'failure') failure = printable(line.text);
      later(() => {
        if (line.kind === 'ping') {
          if (unjudged !== undefined) log(`${unjudged}  (no verdict)`);
          unjudged = describePing(line);
          return;
        }
        if (line.kind === 'good' && unjudged !== undefined) {
          log(`${unjudged}  good!`);
          unjudged = undefined;
          return;
        }
        if (unjudged !== undefined) log(unjudged);
        unjudged = undefined;
        // Verbatim, whatever kind of line it was: the log is evidence of what the server said.
        log(`  server: ${printable(text)}`);
      });
    });
    connection.on('error', () => {}); // every failure also ends in 'close', which is reported below
    connection.on('close', (code, reason) => {
      clearTimeout(silence);
      later(() => {
        if (unjudged !== undefined) log(unjudged);
        if (secret !== undefined) return resolve({ ok: true, secret, rounds });
        const closing = `connection closed (${code}${reason ? ` ${printable(reason)}` : ''})`;
        resolve({ ok: false, reason: failure !== undefined ? `${failure} — ${closing}` : `${closing} before the secret arrived` });
      });
    });
  });
}

function describePing(line: Extract<ServerLine, { kind: 'ping' }>): string {
  const offBy = line.measuredMs - line.answer;
  const sign = offBy >= 0 ? '+' : '−';
  return `  round ${String(line.round).padStart(2)}: ${line.sincePreviousMs.toFixed(1).padStart(6)} ms since the last ping, ` +
    `${line.measuredMs.toFixed(1).padStart(6)} by the schedule (${sign}${Math.abs(offBy).toFixed(1)}) → answered ${String(line.answer).padStart(4)}`;
}

function handshakeFailure(error: unknown): string {
  if (error instanceof HandshakeError) {
    if (error.statusCode === 404) return 'the server does not know this token (404)';
    if (error.statusCode === 410) return 'the token is expired or already used (410)';
    return `WebSocket handshake failed: ${error.message}`;
  }
  return `WebSocket handshake failed: ${(error as Error).message}`;
}
