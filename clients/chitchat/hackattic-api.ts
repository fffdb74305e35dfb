// The two HTTP endpoints of hackattic's "WebSocket chit chat" and where its WebSocket lives:
// GET …/problem → {"token"}, wss://<host>/_/ws/<token>, POST …/solve ← {"secret"}. Uses Node's fetch.

const CHALLENGE_PATH = '/challenges/websocket_chit_chat';
const HTTP_TIMEOUT_MS = 15_000;
const MAX_SHOWN_BODY = 300;

/** An HTTP exchange that did not give what the challenge needs; `retryable` is false for 4xx answers. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

function endpoint(base: string, path: string, accessToken: string): URL {
  const url = new URL(path, base);
  url.searchParams.set('access_token', accessToken);
  return url;
}

async function exchange(url: URL, init: RequestInit): Promise<{ status: number; body: string }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new ApiError(`${init.method ?? 'GET'} ${url.origin}${url.pathname} failed: ${cause ?? (error as Error).message}`, true);
  }
  return { status: response.status, body: await response.text() };
}

function shorten(body: string): string {
  return body.length > MAX_SHOWN_BODY ? `${body.slice(0, MAX_SHOWN_BODY)}…` : body;
}

/** Ask for a problem: a fresh one-time token for the WebSocket. */
export async function fetchProblemToken(base: string, accessToken: string): Promise<string> {
  const url = endpoint(base, `${CHALLENGE_PATH}/problem`, accessToken);
  const { status, body } = await exchange(url, { method: 'GET' });
  if (status !== 200) throw new ApiError(`problem endpoint answered ${status}: ${shorten(body)}`, status >= 500);
  let token: unknown;
  try {
    token = (JSON.parse(body) as { token?: unknown }).token;
  } catch {
    throw new ApiError(`problem endpoint sent something that is not JSON: ${shorten(body)}`, true);
  }
  if (typeof token !== 'string' || token === '') throw new ApiError(`problem has no "token": ${shorten(body)}`, true);
  return token;
}

/** ws:// or wss:// on the same host as the base URL (http → ws, https → wss). */
export function webSocketUrl(base: string, token: string): string {
  const url = new URL(`/_/ws/${encodeURIComponent(token)}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export interface SolveVerdict {
  passed: boolean;
  status: number;
  body: string;
}

/** Submit the secret. hackattic answers 200 even for a rejection, so the body is inspected too. */
export async function submitSecret(base: string, accessToken: string, secret: string): Promise<SolveVerdict> {
  const url = endpoint(base, `${CHALLENGE_PATH}/solve`, accessToken);
  const { status, body } = await exchange(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ secret }),
  });
  let rejected = false;
  try {
    const verdict = JSON.parse(body) as Record<string, unknown>;
    rejected = 'rejected' in verdict || 'error' in verdict;
  } catch {
    // Not JSON: the status alone decides.
  }
  return { passed: status >= 200 && status < 300 && !rejected, status, body: shorten(body) };
}
