// The plain HTTP side of the Poparazzi stand-in: `POST /sessions` (issue a token for local use),
// `GET /posts/:id/views` (a post's total) and a short index page. Request in, RouteResponse out.

import { html, json } from '../../lib/http/responses.ts';
import type { RouteRequest, RouteResponse } from '../../lib/http/router.ts';
import { isPromise, type MaybePromise, type Sessions, type ViewCounter } from './stores.ts';
import { isUuid, normalizeUuid } from './uuid.ts';

/** A session request is `{}` or `{"user_id":"<uuid>"}`; anything longer is not one. */
const MAX_SESSION_BODY_BYTES = 1024;

function httpError(status: number, code: string, message: string): RouteResponse {
  return json({ error: { code, message } }, status);
}

/** `POST /sessions` → 201 `{"token","user_id"}`. An empty body asks for a new random user. */
export function issueSession(sessions: Sessions, request: RouteRequest): MaybePromise<RouteResponse> {
  if (request.body.length > MAX_SESSION_BODY_BYTES) return httpError(413, 'body_too_large', `the body is limited to ${MAX_SESSION_BODY_BYTES} bytes`);
  const text = request.body.toString('utf8').trim();
  let userId: unknown;
  if (text !== '') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return httpError(400, 'invalid_json', 'the body must be JSON: {} or {"user_id":"<uuid>"}');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return httpError(400, 'invalid_body', 'the body must be a JSON object: {} or {"user_id":"<uuid>"}');
    }
    userId = (body as Record<string, unknown>)['user_id'];
  }
  if (userId !== undefined && !isUuid(userId)) return httpError(400, 'invalid_user_id', 'user_id must be a UUID');
  const issued = sessions.issue(userId);
  if (!isPromise(issued)) return json(issued, 201);
  return issued.then((session) => json(session, 201), () => unavailable('sessions'));
}

/** Shared mode only: the shared store (Redis) cannot be reached. */
function unavailable(what: string): RouteResponse {
  return httpError(503, 'unavailable', `the shared ${what} store cannot be reached right now; try again`);
}

/** `GET /posts/:id/views` → `{"post_id","views"}`; 400 for an id that is not a UUID, 0 for a post nobody viewed. */
export function postViews(ledger: ViewCounter, request: RouteRequest): MaybePromise<RouteResponse> {
  const postId = normalizeUuid(request.params['id']);
  if (postId === undefined) return httpError(400, 'invalid_post_id', 'post ids are UUIDs');
  const views = ledger.viewsOf(postId);
  if (!isPromise(views)) return json({ post_id: postId, views });
  return views.then((count) => json({ post_id: postId, views: count }), () => unavailable('view count'));
}

export function indexPage({ issueSessions = true } = {}): RouteResponse {
  // Only what this server serves: with sessions off, tokens come from elsewhere.
  const sessionsItem = issueSessions ? '<li><code>POST /sessions</code> — get a token (body <code>{}</code> or <code>{"user_id":"&lt;uuid&gt;"}</code>)</li>\n' : '';
  return html(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>Poparazzi stream stand-in</title>
<h1>Poparazzi stream stand-in</h1>
<p>Open a WebSocket on this path. Send <code>{"authorization":"Bearer &lt;token&gt;"}</code> first,
then <code>{"state":{…}}</code> and <code>{"view_counts":{…}}</code> messages.</p>
<ul>
${sessionsItem}<li><code>GET /posts/&lt;uuid&gt;/views</code> — a post's view count</li>
</ul>
`);
}
