// The client side: RFC 6455 §4.1 (client requirements) and §3 (ws:// and wss:// URIs).
// `connect` opens TCP (node:net) or TLS (node:tls), performs the opening handshake, and resolves with
// an open WebSocketConnection; http:// and https:// URLs are accepted and mapped to ws:// and wss://.

import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketConnection, type ConnectionOptions } from './connection.ts';
import { checkUpgradeResponse, clientRequest, generateKey, parseResponseHead, type ResponseHead } from './handshake.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import { checkAsClient, offerAsClient } from './permessage-deflate/handshake.ts';
import { tapSocket, type WireListener } from './wire-tap.ts';

export interface ConnectOptions extends ConnectionOptions {
  protocols?: string[];
  origin?: string;
  headers?: Record<string, string>;
  /** The whole opening handshake, TCP connect included, must finish within this (default 10 s). */
  handshakeTimeoutMs?: number;
  maxHandshakeBytes?: number;
  /** TLS settings for wss:// (a `ca` for a self-signed server, `rejectUnauthorized`, …). */
  tls?: TlsOptions;
  /** The wire inspector: see the handshake and every frame both ways, decoded (wire-trace.ts). Copies every chunk. */
  trace?: WireListener;
}

/**
 * The handshake failed. `statusCode` is the server's HTTP status when it answered with one; when it
 * refused (any status but 101), `body` is the start of its explanation (at most 1 KiB).
 */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
  constructor(message: string, readonly statusCode?: number, readonly response?: ResponseHead, readonly body?: string) {
    super(message);
  }
}

/** How much of a refusal's body is kept: enough for a reason, never a whole error page. */
const MAX_REFUSAL_BODY_BYTES = 1024;

/** "server refused: 403 Forbidden — origin not allowed", the body on one line, with no control characters. */
function refusalError(response: ResponseHead, body: Buffer): HandshakeError {
  const text = body.subarray(0, MAX_REFUSAL_BODY_BYTES).toString('utf8');
  const reason = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const status = `${response.statusCode} ${response.statusText}`.trim();
  return new HandshakeError(`server refused: ${status}${reason ? ` — ${reason}` : ''}`, response.statusCode, response, text);
}

/** How many body bytes of a refusal to wait for: its Content-Length (bounded), or up to the bound until the server closes. */
function refusalBodyBytes(response: ResponseHead): number {
  if (response.headers['transfer-encoding'] !== undefined) return 0; // chunk framing would show as noise: status only
  const declared = response.headers['content-length'];
  if (declared !== undefined && /^\d{1,15}$/.test(declared)) return Math.min(Number(declared), MAX_REFUSAL_BODY_BYTES);
  return MAX_REFUSAL_BODY_BYTES;
}

const SCHEMES: Record<string, { secure: boolean; port: number }> = {
  'ws:': { secure: false, port: 80 },
  'http:': { secure: false, port: 80 },
  'wss:': { secure: true, port: 443 },
  'https:': { secure: true, port: 443 },
};

export function connect(address: string | URL, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return Promise.reject(new HandshakeError(`not a URL: ${String(address)}`));
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) return Promise.reject(new HandshakeError(`unsupported scheme ${url.protocol} (use ws://, wss://, http:// or https://)`));
  // §3: a fragment is not allowed in a WebSocket URI; it is not sent anyway.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : scheme.port;
  const key = generateKey();
  const protocols = options.protocols ?? [];
  let deflateOffer: ReturnType<typeof offerAsClient>;
  let requestHead: string;
  try {
    deflateOffer = offerAsClient(options.perMessageDeflate); // off unless asked for: docs/permessage-deflate.md
    // A header that could inject others is refused here, before any connection is made.
    requestHead = clientRequest({ host: url.host, path: url.pathname + url.search, key, protocols, origin: options.origin, extensions: deflateOffer?.header, headers: options.headers });
  } catch (error) {
    return Promise.reject(error);
  }

  return new Promise((resolve, reject) => {
    const socket: Duplex = scheme.secure
      ? tlsConnect({ host, port, servername: isIP(host) !== 0 ? undefined : host, ...options.tls })
      : netConnect({ host, port });
    if (options.trace) tapSocket(socket, 'client', options.trace);
    const received: Buffer[] = [];
    let receivedBytes = 0;
    let settled = false;
    /** Set once the server answered with something else than 101: its body is read for the reason. */
    let refusal: { response: ResponseHead; bodyStart: number; wanted: number } | undefined;

    const fail = (error: HandshakeError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_LIMITS.handshakeTimeoutMs;
    // A refusal is reported with whatever of its body came: at the end of its body, when the server
    // closes (or resets), or when the handshake's time is up.
    const failRefused = (): void => {
      fail(refusalError(refusal!.response, Buffer.concat(received, receivedBytes).subarray(refusal!.bodyStart)));
    };
    const timer = setTimeout(() => {
      if (refusal) failRefused();
      else fail(new HandshakeError(`opening handshake timed out after ${timeoutMs} ms`));
    }, timeoutMs);

    socket.once(scheme.secure ? 'secureConnect' : 'connect', () => {
      socket.write(requestHead);
    });
    socket.on('error', (error) => {
      if (refusal) failRefused();
      else fail(new HandshakeError(`cannot connect to ${url.host}: ${error.message}`));
    });
    socket.on('close', () => {
      if (refusal) failRefused();
      else fail(new HandshakeError('connection closed during the opening handshake'));
    });

    const onData = (chunk: Buffer): void => {
      received.push(chunk);
      receivedBytes += chunk.length;
      if (refusal) {
        if (receivedBytes - refusal.bodyStart >= refusal.wanted) failRefused();
        return;
      }
      const all = received.length === 1 ? chunk : Buffer.concat(received, receivedBytes);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd === -1) {
        if (receivedBytes > (options.maxHandshakeBytes ?? DEFAULT_LIMITS.maxHandshakeBytes)) fail(new HandshakeError('handshake response too large'));
        return;
      }
      const response = parseResponseHead(all.toString('latin1', 0, headEnd));
      if (!response) return fail(new HandshakeError('malformed HTTP response to the opening handshake'));
      if (response.statusCode !== 101) {
        refusal = { response, bodyStart: headEnd + 4, wanted: refusalBodyBytes(response) };
        if (receivedBytes - refusal.bodyStart >= refusal.wanted) failRefused();
        return;
      }
      const problem = checkUpgradeResponse(response, key, protocols);
      if (problem) return fail(new HandshakeError(problem, response.statusCode, response));
      const extensions = checkAsClient(response.headers['sec-websocket-extensions'], deflateOffer?.options);
      if (!extensions.ok) return fail(new HandshakeError(extensions.reason, response.statusCode, response));
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      const head = all.subarray(headEnd + 4);
      resolve(new WebSocketConnection(socket, 'client', { ...options, protocol: response.headers['sec-websocket-protocol'], head, extensions: response.headers['sec-websocket-extensions'], deflate: extensions.agreement }));
    };
    socket.on('data', onData);
  });
}
