// The timed loop of bench/parse-ab.ts, imported once per checkout (under a different URL each time, see
// ab-checkouts.ts), so each core runs through call sites of its own.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Core {
  receive(chunk: Buffer): void;
  nextEvent?: () => { kind: number } | undefined;
}

/** A parse loop over one checkout's core: returns how many messages the chunks held. */
export async function loadParseLoop(checkout: string): Promise<(chunks: readonly Buffer[]) => number> {
  const module = await import(pathToFileURL(resolve(checkout, 'lib/websocket/protocol.ts')).href);
  let messages = 0;
  // The first version of the core took handler callbacks; the event queue (`nextEvent()`) replaced them.
  const handler = { write() {}, onMessage() { messages++; }, onPing() {}, onPong() {}, onClose() {}, onError(error: Error) { throw error; } };
  const core = new module.WebSocketProtocol(handler, { role: 'server', maxMessageBytes: 1 << 26 }) as Core;
  const eventQueue = typeof core.nextEvent === 'function';
  return (chunks) => {
    messages = 0;
    for (const chunk of chunks) {
      core.receive(chunk);
      if (eventQueue) for (let event = core.nextEvent!(); event !== undefined; event = core.nextEvent!()) if (event.kind === 0) messages++;
    }
    return messages;
  };
}
