// The session store: bearer tokens → user ids, for the stream's `{"authorization":"Bearer <uuid>"}`.
// Tokens are never kept or looked up in clear: the store is keyed by the SHA-256 of the token, so the
// lookup's timing depends on a digest the caller cannot steer, and the match is confirmed with timingSafeEqual.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { normalizeUuid } from './uuid.ts';

export interface IssuedSession {
  token: string;
  user_id: string;
}

interface StoredSession {
  digest: Buffer;
  userId: string;
}

/** Enough for any local demo or test; the oldest session makes room for a new one beyond it. */
export const DEFAULT_MAX_SESSIONS = 100_000;

/** What a session is stored under: the SHA-256 of its (normalised) token. */
export function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class SessionStore {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #maxSessions: number;

  constructor(options: { maxSessions?: number } = {}) {
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Create a session for `userId` (a UUID, any case) or for a new random user. */
  issue(userId?: string): IssuedSession {
    const user = userId === undefined ? randomUUID() : normalizeUuid(userId);
    if (user === undefined) throw new TypeError('user_id must be a UUID');
    const token = randomUUID();
    const digest = digestOf(token);
    if (this.#sessions.size >= this.#maxSessions) {
      // Map iteration follows insertion order, so the first key is the oldest session.
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(digest.toString('hex'), { digest, userId: user });
    return { token, user_id: user };
  }

  /** The user id of a token, or undefined. Tokens are UUIDs, so any case matches. */
  userFor(token: string): string | undefined {
    const normalized = normalizeUuid(token);
    if (normalized === undefined) return undefined;
    const digest = digestOf(normalized);
    const session = this.#sessions.get(digest.toString('hex'));
    if (session === undefined || !timingSafeEqual(session.digest, digest)) return undefined;
    return session.userId;
  }

  /** Parse an Authorization value ("Bearer <token>", scheme case-insensitive per RFC 9110 §11.1) into a user id. */
  authenticate(authorization: string): string | undefined {
    const token = bearerToken(authorization);
    return token === undefined ? undefined : this.userFor(token);
  }

  revoke(token: string): boolean {
    const normalized = normalizeUuid(token);
    return normalized !== undefined && this.#sessions.delete(digestOf(normalized).toString('hex'));
  }
}

/** The token of an Authorization value ("Bearer <token>", scheme case-insensitive per RFC 9110 §11.1), or undefined. */
export function bearerToken(authorization: string): string | undefined {
  const match = /^bearer +(\S+) *$/i.exec(authorization);
  return match === null ? undefined : match[1];
}
