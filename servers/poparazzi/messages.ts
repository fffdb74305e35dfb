// Validation of the messages a client sends on the Poparazzi stream: JSON text, one top-level key
// naming the message (`authorization`, `state`, `view_counts`). Turns untrusted bytes into a typed
// message or a StreamError saying exactly what is wrong; never throws.

import { ErrorCode, type StreamError } from './stream-codes.ts';
import { normalizeUuid } from './uuid.ts';

export interface MessageLimits {
  /** Largest message handled; bigger ones get `message_too_large` (this is also a batch's maximum size). */
  maxMessageBytes: number;
  /** Most posts in one view_counts batch. */
  maxBatchEntries: number;
  /** Largest per-post count a client may report; a person does not watch one post a thousand times in a batch. */
  maxReportedCount: number;
  /** Longest string accepted as an active_group_id. */
  maxGroupIdLength: number;
}

export const DEFAULT_MESSAGE_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageBytes: 8 * 1024,
  maxBatchEntries: 100,
  maxReportedCount: 1000,
  maxGroupIdLength: 128,
});

/** The document leaves its type open ("real data type not yet known"): null, a string id or an integer id. */
export type ActiveGroupId = string | number | null;

export interface ViewReport {
  /** The key exactly as the client sent it, so answers can name it. */
  key: string;
  /** The post id in stored form (lower-case UUID). */
  postId: string;
  count: number;
}

export type ClientMessage =
  | { type: 'authorization'; authorization: unknown }
  | { type: 'state'; activeGroupId: ActiveGroupId; isTyping: boolean }
  | { type: 'view_counts'; reports: ViewReport[] };

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: StreamError };

const STATE_FIELDS = new Set(['active_group_id', 'is_typing']);

function failure(code: ErrorCode, message: string, entries?: Record<string, string>): ParseResult {
  return { ok: false, error: entries === undefined ? { code, message } : { code, message, entries } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Show a client's value in an error message without echoing an arbitrarily long string back. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Parse one received message. Text only; the caller answers binary frames itself. */
export function parseClientMessage(data: Buffer, limits: MessageLimits = DEFAULT_MESSAGE_LIMITS): ParseResult {
  if (data.length > limits.maxMessageBytes) {
    return failure(ErrorCode.MessageTooLarge, `messages are limited to ${limits.maxMessageBytes} bytes, this one has ${data.length}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return failure(ErrorCode.InvalidJson, `not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) return failure(ErrorCode.InvalidMessage, 'a message is a JSON object with one key');
  const keys = Object.keys(parsed);
  if (keys.length !== 1) {
    return failure(ErrorCode.InvalidMessage, `a message has exactly one top-level key, this one has ${keys.length}`);
  }
  const type = keys[0]!;
  const body = parsed[type];
  switch (type) {
    case 'authorization':
      return { ok: true, message: { type, authorization: body } };
    case 'state':
      return parseState(body, limits);
    case 'view_counts':
      return parseViewCounts(body, limits);
    default:
      return failure(ErrorCode.UnknownMessage, `unknown message ${describe(type)}: expected authorization, state or view_counts`);
  }
}

function parseState(body: unknown, limits: MessageLimits): ParseResult {
  if (!isPlainObject(body)) return failure(ErrorCode.InvalidState, 'state must be an object');
  for (const field of Object.keys(body)) {
    if (!STATE_FIELDS.has(field)) return failure(ErrorCode.InvalidState, `unknown field ${describe(field)} in state`);
  }
  const activeGroupId = body['active_group_id'] ?? null;
  const groupIsValid =
    activeGroupId === null ||
    (typeof activeGroupId === 'string' && activeGroupId.length > 0 && activeGroupId.length <= limits.maxGroupIdLength) ||
    Number.isSafeInteger(activeGroupId);
  if (!groupIsValid) {
    return failure(ErrorCode.InvalidState, `state.active_group_id must be null, an integer or a string of 1 to ${limits.maxGroupIdLength} characters`);
  }
  // The real service answered a null is_typing with false: "not typing" is the only safe reading.
  const isTyping = body['is_typing'] ?? false;
  if (typeof isTyping !== 'boolean') return failure(ErrorCode.InvalidState, 'state.is_typing must be true, false or null');
  return { ok: true, message: { type: 'state', activeGroupId: activeGroupId as ActiveGroupId, isTyping } };
}

function parseViewCounts(body: unknown, limits: MessageLimits): ParseResult {
  if (!isPlainObject(body)) return failure(ErrorCode.InvalidViewCounts, 'view_counts must be an object of post id → count');
  const keys = Object.keys(body);
  if (keys.length === 0) return failure(ErrorCode.InvalidViewCounts, 'view_counts is empty');
  if (keys.length > limits.maxBatchEntries) {
    return failure(ErrorCode.TooManyEntries, `a view_counts batch holds at most ${limits.maxBatchEntries} posts, this one has ${keys.length}; nothing was counted`);
  }
  const reports: ViewReport[] = [];
  // No prototype: a key such as "__proto__" must be reported like any other.
  const problems: Record<string, string> = Object.create(null);
  let problemCount = 0;
  for (const key of keys) {
    const postId = normalizeUuid(key);
    const count = body[key];
    if (postId === undefined) {
      problems[key] = 'post id must be a UUID';
      problemCount += 1;
    } else if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > limits.maxReportedCount) {
      problems[key] = `count must be an integer from 1 to ${limits.maxReportedCount}, got ${describe(count)}`;
      problemCount += 1;
    } else {
      reports.push({ key, postId, count });
    }
  }
  if (problemCount > 0) {
    const noun = problemCount === 1 ? 'entry is' : 'entries are';
    return failure(ErrorCode.InvalidViewCounts, `${problemCount} ${noun} invalid; nothing was counted`, problems);
  }
  return { ok: true, message: { type: 'view_counts', reports } };
}
