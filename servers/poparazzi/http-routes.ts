// The plain HTTP side of the Poparazzi stand-in: `POST /sessions` (issue a token for local use),
// `GET /posts/:id/views` (a post's total) and a short index page. Request in, RouteResponse out.

import { html, json } from '../../lib/http/responses.ts';
import type { RouteRequest, RouteResponse } from '../../lib/http/router.ts';
import type { SessionStore } from './sessions.ts';
import { isUuid, normalizeUuid } from './uuid.ts';
import type { ViewLedger } from './view-ledger.ts';

/** A session request is `{}` or `{"user_id":"<uuid>"}`; anything longer is not one. */
const MAX_SESSION_BODY_BYTES = 1024;

function httpError(status: number, code: string, message: string): RouteResponse {
  return json({ error: { code, message } }, status);
}

/** `POST /sessions` → 201 `{"token","user_id"}`. An empty body asks for a new random user. */
export function issueSession(sessions: SessionStore, request: RouteRequest): RouteResponse {
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
  return json(sessions.issue(userId), 201);
}

/** `GET /posts/:id/views` → `{"post_id","views"}`; 400 for an id that is not a UUID, 0 for a post nobody viewed. */
export function postViews(ledger: ViewLedger, request: RouteRequest): RouteResponse {
  const postId = normalizeUuid(request.params['id']);
  if (postId === undefined) return httpError(400, 'invalid_post_id', 'post ids are UUIDs');
  return json({ post_id: postId, views: ledger.viewsOf(postId) });
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
