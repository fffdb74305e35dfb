// Runs one Conversation (conversation.ts) over an open WebSocket: feeds it messages and the clock,
// carries out what it says, and keeps the single timer for the next ping.

import { performance } from 'node:perf_hooks';
import type { WebSocketConnection } from '../../lib/websocket/index.ts';
import { Conversation, type ConversationSettings, type Instruction } from './conversation.ts';

export interface RunningConversation {
  readonly conversation: Conversation;
  /** End it now (server shutdown): close with `code` and stop the timer. */
  stop(code: number, reason: string): void;
}

export function runConversation(
  connection: WebSocketConnection,
  settings: ConversationSettings,
  onFinished: (conversation: Conversation) => void,
): RunningConversation {
  const conversation = new Conversation(settings);
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    conversation.abandon();
    onFinished(conversation);
  };

  const carryOut = (instructions: Instruction[]): void => {
    for (const instruction of instructions) {
      if (instruction.kind === 'send') connection.send(instruction.text);
      else connection.close(instruction.code, instruction.reason);
    }
    if (conversation.outcome !== 'talking') return finish();
    clearTimeout(timer);
    const wakeAt = conversation.wakeAt;
    if (wakeAt === undefined) return;
    // Timers run before the event loop reads sockets: setImmediate lets an answer that is already here
    // be read first, so a server running late does not call it a missed beat. A timer may also fire a
    // fraction of a millisecond early by performance.now(); advance() then does nothing and is re-armed.
    timer = setTimeout(() => setImmediate(() => {
      if (!finished) carryOut(conversation.advance(performance.now()));
    }), Math.max(0, Math.ceil(wakeAt - performance.now())));
  };

  connection.on('message', (data, isBinary) => {
    carryOut(isBinary ? conversation.receiveBinary() : conversation.receive(data.toString('utf8')));
  });
  connection.on('close', finish);
  // The 101 has just been written: this is the moment the connection opened, for both sides.
  carryOut(conversation.open(performance.now()));

  return {
    conversation,
    stop(code, reason) {
      finish();
      connection.close(code, reason);
    },
  };
}
