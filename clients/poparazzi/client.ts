// Runs one Poparazzi conversation over a real WebSocket: get a session (unless a token is given),
// connect, then let conversation.ts drive. Every received message is reported as it arrives.

import { randomUUID } from 'node:crypto';
import { connect } from '../../lib/websocket/index.ts';
import { Conversation, type ConversationPlan } from './conversation.ts';
import { requestSession } from './http-session.ts';

export interface ClientOptions {
  /** The server: http://, https://, ws:// or wss:// (the stream is at `streamPath` on it). */
  url: string;
  streamPath?: string;
  /** Use this token instead of asking POST /sessions for one. */
  token?: string;
  /** Ask POST /sessions for this user. */
  userId?: string;
  state?: ConversationPlan['state'];
  /** Default: three random posts, as a quick demo. */
  viewCounts?: Record<string, number>;
  /** The whole conversation must finish within this long (default 10 s). */
  timeoutMs?: number;
  /** Called with each line worth printing: what was sent and what came back. */
  report?: (line: string) => void;
}

export interface ClientResult {
  ok: boolean;
  /** Why the conversation failed, when it did. */
  failure?: string;
  userId?: string;
  /** Every message the server sent, parsed. */
  received: unknown[];
  closeCode?: number;
}

function demoViews(): Record<string, number> {
  return { [randomUUID()]: 1, [randomUUID()]: 3, [randomUUID()]: 1 };
}

export async function runPoparazziClient(options: ClientOptions): Promise<ClientResult> {
  const report = options.report ?? (() => {});
  const received: unknown[] = [];
  let token = options.token;
  let userId: string | undefined;
  if (token === undefined) {
    const session = await requestSession(options.url, { userId: options.userId });
    token = session.token;
    userId = session.user_id;
    report(`session: user ${session.user_id}`);
  }
  const conversation = new Conversation({
    token,
    state: options.state ?? { active_group_id: null, is_typing: null },
    viewCounts: options.viewCounts ?? demoViews(),
  });
  const streamUrl = new URL(options.streamPath ?? '/', options.url).toString();
  const connection = await connect(streamUrl, { handshakeTimeoutMs: options.timeoutMs ?? 10_000 });

  return new Promise<ClientResult>((resolve) => {
    let failure: string | undefined;
    const send = (message: Record<string, unknown>): void => {
      report(`→ ${JSON.stringify(message)}`);
      connection.send(JSON.stringify(message));
    };
    const stop = (reason?: string): void => {
      failure ??= reason;
      connection.close(1000, reason === undefined ? 'done' : 'giving up');
    };
    const timer = setTimeout(() => {
      stop(`no answer within ${options.timeoutMs ?? 10_000} ms`);
      connection.terminate();
    }, options.timeoutMs ?? 10_000);

    connection.on('message', (data, isBinary) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        report(`← (${isBinary ? 'binary' : 'not JSON'}) ${data.toString('utf8').slice(0, 200)}`);
        return stop('the server sent something that is not JSON');
      }
      received.push(message);
      report(`← ${JSON.stringify(message)}`);
      const step = conversation.receive(message);
      if (step.type === 'send') step.messages.forEach(send);
      else if (step.type === 'done') stop();
      else stop(step.reason);
    });
    connection.on('error', (error) => report(`! ${error.message}`));
    connection.once('close', (code, reason) => {
      clearTimeout(timer);
      report(`closed ${code}${reason === '' ? '' : ` (${reason})`}`);
      if (!conversation.finished && failure === undefined) failure = `the server closed the stream (${code}${reason === '' ? '' : ` ${reason}`})`;
      resolve({ ok: failure === undefined, failure, userId, received, closeCode: code });
    });
    send(conversation.start());
  });
}
