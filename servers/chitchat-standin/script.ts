// What the hackattic "WebSocket chit chat" server says, word for word where public write-ups
// quote it, and the close codes this stand-in adds (the real service's codes are not published).

/** The intervals the service picks from (challenge text), in service milliseconds. */
export const PING_INTERVALS_MS = [700, 1500, 2000, 2500, 3000] as const;

export const HELLO = 'hello! start counting the time between the pings (start from the moment you opened this connection)';
export const PING = 'ping!';
export const GOOD = 'good!';
export const MISSED_BEAT = 'ouch! seems like you missed a beat... sorry, this conversation is over. closing socket.';

/** Only "ouch! no! that was a" is known of the real text; the rest says what went wrong. */
export function wrongAnswer(intervalMs: number, answer: string): string {
  return `ouch! no! that was a ${intervalMs} ms interval, you said ${quoteAnswer(answer)}. sorry, this conversation is over. closing socket.`;
}

/** Not described anywhere: an answer while no ping is waiting for one (before the first ping, or a second answer). */
export function unexpectedAnswer(answer: string): string {
  return `ouch! no! there was no ping to answer, you said ${quoteAnswer(answer)}. sorry, this conversation is over. closing socket.`;
}

export function congratulations(secret: string): string {
  return `congratulations! the solution to this challenge is "${secret}"`;
}

/** Close codes: 1000 after the secret, private 4xxx codes for the ways a conversation fails. */
export const CloseCodes = {
  Finished: 1000,
  ShuttingDown: 1001,
  BinaryMessage: 1003,
  MissedBeat: 4000,
  WrongAnswer: 4001,
  UnexpectedAnswer: 4002,
  TokenAlreadyUsed: 4003,
} as const;

/** A plain number echoes as it is; anything else is quoted and cut short, so a hostile answer cannot flood the reply. */
function quoteAnswer(answer: string): string {
  if (/^\d{1,12}$/.test(answer)) return answer;
  const shown = answer.length > 40 ? `${answer.slice(0, 40)}…` : answer;
  return JSON.stringify(shown);
}
