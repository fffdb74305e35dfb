// The JSON messages of the Global and Team APIs (seed 002), as the manager reads and writes them.
// Parsing never throws: anything that is not an object with a known `type` and well-formed fields
// comes back as `{ type: 'invalid', reason }`, so one bad message can never stop the manager.

/** The original API numbers its teams; a string id is accepted too, and echoed back as it came. */
export type TeamId = number | string;

export interface TeamStats {
  id: TeamId;
  connected: boolean;
  message_count: number;
  props_count: number;
}

/** What the server may send on the Global connection. */
export type GlobalServerMessage =
  | { type: 'hello' }
  | { type: 'goodbye' }
  | { type: 'healthcheck' }
  | { type: 'team.join'; team_id: TeamId }
  | { type: 'team.left'; team_id: TeamId }
  | { type: 'team.connect'; team_id: TeamId; ws_url: string }
  | { type: 'error'; message: string; received_message: unknown; team_id?: TeamId }
  | { type: 'invalid'; reason: string };

/** What the server may send on a Team connection. */
export type TeamServerMessage =
  | { type: 'hello' }
  | { type: 'message'; text: string }
  | { type: 'pong'; unique_id: string }
  | { type: 'team.left' }
  | { type: 'error'; message: string }
  | { type: 'invalid'; reason: string };

const MAX_STRING_ID_LENGTH = 128;

export function isTeamId(value: unknown): value is TeamId {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_STRING_ID_LENGTH;
}

/** A short, printable excerpt of a received text for log lines. */
export function excerpt(text: string, limit = 80): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length <= limit ? flat : `${flat.slice(0, limit)}…`;
}

function parseObject(text: string): { object: Record<string, unknown> } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: `not JSON: ${excerpt(text)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reason: `not a JSON object: ${excerpt(text)}` };
  const object = value as Record<string, unknown>;
  if (typeof object.type !== 'string') return { reason: `no "type": ${excerpt(text)}` };
  return { object };
}

export function parseGlobalMessage(text: string): GlobalServerMessage {
  const parsed = parseObject(text);
  if ('reason' in parsed) return { type: 'invalid', reason: parsed.reason };
  const message = parsed.object;
  switch (message.type) {
    case 'hello':
    case 'goodbye':
    case 'healthcheck':
      return { type: message.type };
    case 'team.join':
    case 'team.left':
      if (!isTeamId(message.team_id)) return { type: 'invalid', reason: `${message.type} without a valid team_id: ${excerpt(text)}` };
      return { type: message.type, team_id: message.team_id };
    case 'team.connect':
      if (!isTeamId(message.team_id)) return { type: 'invalid', reason: `team.connect without a valid team_id: ${excerpt(text)}` };
      if (typeof message.ws_url !== 'string' || !isWebSocketUrl(message.ws_url)) {
        return { type: 'invalid', reason: `team.connect without a usable ws_url: ${excerpt(text)}` };
      }
      return { type: 'team.connect', team_id: message.team_id, ws_url: message.ws_url };
    case 'error':
      return {
        type: 'error',
        message: typeof message.message === 'string' ? message.message : '(no message)',
        received_message: message.received_message,
        ...(isTeamId(message.team_id) ? { team_id: message.team_id } : {}),
      };
    default:
      return { type: 'invalid', reason: `unknown type ${excerpt(JSON.stringify(message.type))}` };
  }
}

export function parseTeamMessage(text: string): TeamServerMessage {
  const parsed = parseObject(text);
  if ('reason' in parsed) return { type: 'invalid', reason: parsed.reason };
  const message = parsed.object;
  switch (message.type) {
    case 'hello':
    case 'team.left':
      return { type: message.type };
    case 'message':
      if (typeof message.text !== 'string') return { type: 'invalid', reason: `message without a text: ${excerpt(text)}` };
      return { type: 'message', text: message.text };
    case 'pong':
      if (typeof message.unique_id !== 'string') return { type: 'invalid', reason: `pong without a unique_id: ${excerpt(text)}` };
      return { type: 'pong', unique_id: message.unique_id };
    case 'error':
      return { type: 'error', message: typeof message.message === 'string' ? message.message : '(no message)' };
    default:
      return { type: 'invalid', reason: `unknown type ${excerpt(JSON.stringify(message.type))}` };
  }
}

/** The seed hands out http:// team URLs; our client maps http(s) to ws(s). */
export function isWebSocketUrl(text: string): boolean {
  try {
    return ['ws:', 'wss:', 'http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** The team id an error is about: its own `team_id`, or the one in the message it refuses. */
export function teamIdOfError(message: { team_id?: TeamId; received_message: unknown }): TeamId | undefined {
  if (message.team_id !== undefined) return message.team_id;
  let received = message.received_message;
  if (typeof received === 'string') {
    try {
      received = JSON.parse(received);
    } catch {
      return undefined;
    }
  }
  if (typeof received !== 'object' || received === null) return undefined;
  const teamId = (received as Record<string, unknown>).team_id;
  return isTeamId(teamId) ? teamId : undefined;
}

/** The seed's rule for `props_count`: the text contains "props", in any letter case. */
export function mentionsProps(text: string): boolean {
  return /props/i.test(text);
}
