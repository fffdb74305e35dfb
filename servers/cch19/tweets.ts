// Day 19, task 2: what a tweet and a room number look like on the wire (no socket in here).
// In: a text message {"message":"…"} of at most 128 characters (Unicode code points).
// Out: {"user":"<author>","message":"…"}, exactly those two keys in that order.

/** The longest tweet accepted, in Unicode code points ("🎄" is one). 128 passes, 129 is ignored. */
export const MAX_TWEET_CHARACTERS = 128;

/**
 * A bigger incoming message cannot hold a valid tweet, whatever its escaping: 128 code points written as
 * `\uXXXX` surrogate pairs are 12 bytes each, plus room for the braces, the key and a few extra fields.
 * Such messages are ignored without being parsed.
 */
export const MAX_TWEET_MESSAGE_BYTES = MAX_TWEET_CHARACTERS * 12 + 1024;

/**
 * The message text of an incoming tweet, or undefined when it must be ignored: a binary frame, invalid
 * JSON (trailing junk included), anything but a JSON object, a missing or non-string `message`, or a
 * message longer than 128 code points. Other keys beside `message` are tolerated, as a lenient JSON
 * reader (serde, the reference's) would.
 */
export function readTweetMessage(data: Buffer | string, isBinary: boolean): string | undefined {
  if (isBinary || data.length > MAX_TWEET_MESSAGE_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  if (!Object.hasOwn(parsed, 'message')) return undefined;
  const message = (parsed as { message: unknown }).message;
  if (typeof message !== 'string') return undefined;
  return fitsInTweet(message) ? message : undefined;
}

/** At most 128 code points? Each code point is one or two UTF-16 units, so most strings are decided by length. */
export function fitsInTweet(text: string): boolean {
  if (text.length <= MAX_TWEET_CHARACTERS) return true;
  if (text.length > 2 * MAX_TWEET_CHARACTERS) return false;
  return countCodePoints(text) <= MAX_TWEET_CHARACTERS;
}

/** The tweet as every room member receives it. */
export function formatTweet(user: string, message: string): string {
  return JSON.stringify({ user, message });
}

/**
 * The room a `<number>` path segment names, or undefined when it is not a non-negative integer written
 * in decimal digits ("abc", "-1", "1.5", "1e3", "" are not). Leading zeros are dropped, so "007" and "7"
 * are the same room.
 */
export function roomKey(segment: string): string | undefined {
  if (!/^[0-9]+$/.test(segment)) return undefined;
  return segment.replace(/^0+(?=.)/, '');
}

/** Code points, not UTF-16 units: a string's length counts an emoji as two, this counts it as one. */
export function countCodePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) count++;
  return count;
}
