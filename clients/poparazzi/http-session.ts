// Getting a session from the Poparazzi stand-in: `POST /sessions` over node:http(s), answering the
// `{"token","user_id"}` the stream's authorization message needs.

import * as http from 'node:http';
import * as https from 'node:https';

export interface Session {
  token: string;
  user_id: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/** POST `{"user_id"?}` to `<baseUrl>/sessions`; rejects with the server's error message on a non-2xx answer. */
export function requestSession(baseUrl: string, options: { userId?: string; timeoutMs?: number } = {}): Promise<Session> {
  const url = new URL('/sessions', baseUrl.replace(/^ws/, 'http'));
  const body = JSON.stringify(options.userId === undefined ? {} : { user_id: options.userId });
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: options.timeoutMs ?? 10_000,
    }, (response) => {
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) request.destroy(new Error(`POST ${url} answered more than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new Error(`POST ${url} answered ${status}: ${text.trim()}`));
        try {
          const session = JSON.parse(text) as Partial<Session>;
          if (typeof session.token !== 'string' || typeof session.user_id !== 'string') throw new Error('missing token or user_id');
          resolve({ token: session.token, user_id: session.user_id });
        } catch (error) {
          reject(new Error(`POST ${url} answered an unexpected body (${(error as Error).message}): ${text.slice(0, 200)}`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`POST ${url} timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}
