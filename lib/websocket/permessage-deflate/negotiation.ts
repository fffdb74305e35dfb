// Negotiating permessage-deflate: RFC 7692 §5 (offer and response), §7.1 (the four parameters).
// Pure functions over parsed Sec-WebSocket-Extensions lists (extensions.ts): no I/O, no state.
//
//   client offer     permessage-deflate; client_max_window_bits; server_max_window_bits=10
//   server response  permessage-deflate; client_max_window_bits=12; server_max_window_bits=10
//
// The server takes the first offer it can accept and declines (skips) one with an unknown, repeated or
// malformed parameter (§5.1). The client fails the connection on any response it could not have
// asked for (§5.1: an extension it did not offer, a parameter it cannot accept or a bad value).

import { formatExtension, type ExtensionOffer, type ExtensionParam } from '../extensions.ts';
import { EXTENSION_NAME, MAX_WINDOW_BITS, MIN_WINDOW_BITS } from './constants.ts';
import type { ResolvedPerMessageDeflateOptions } from './options.ts';

/** What both ends agreed, as seen on the wire. Window bits are 8–15, 15 when not negotiated lower. */
export interface PerMessageDeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** The parameters of one offer or response, each checked for its grammar; or why they are unacceptable. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined: absent. */
  serverMaxWindowBits: number | undefined;
  /** undefined: absent; true: present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

/** §7.1.2: a decimal integer 8–15 without leading zeroes (after unquoting — extensions.ts did that). */
function parseWindowBits(value: string | true): number | undefined {
  if (value === true || value.length === 0 || value.length > 2 || value[0] === '0') return undefined;
  let bits = 0;
  for (const char of value) {
    if (char < '0' || char > '9') return undefined;
    bits = bits * 10 + (char.charCodeAt(0) - 48);
  }
  return bits >= MIN_WINDOW_BITS && bits <= MAX_WINDOW_BITS ? bits : undefined;
}

function parseParams(params: readonly ExtensionParam[]): ParsedParams | string {
  const parsed: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const { name, value } of params) {
    if (seen.has(name)) return `parameter ${name} appears twice`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `${name} takes no value`;
        if (name === 'server_no_context_takeover') parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = parseWindowBits(value);
        if (bits === undefined) return `${name} must be 8 to 15, got ${value === true ? 'no value' : JSON.stringify(value)}`;
        parsed.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        if (value === true) {
          parsed.clientMaxWindowBits = true;
          break;
        }
        const bits = parseWindowBits(value);
        if (bits === undefined) return `${name} must be 8 to 15, got ${JSON.stringify(value)}`;
        parsed.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${name}`;
    }
  }
  return parsed;
}

// ── Server (§5.1, §7.1) ─────────────────────────────────────────────────────────────────────────

export interface AcceptedOffer {
  params: PerMessageDeflateParams;
  /** The Sec-WebSocket-Extensions value of the 101 response. */
  response: string;
}

/**
 * Pick the first acceptable permessage-deflate offer among the client's extension offers and answer
 * it. Returns undefined when none is acceptable (the handshake then goes on without compression).
 */
export function acceptOffer(
  offers: readonly ExtensionOffer[],
  options: ResolvedPerMessageDeflateOptions,
): AcceptedOffer | undefined {
  for (const offer of offers) {
    if (offer.name !== EXTENSION_NAME) continue;
    const offered = parseParams(offer.params);
    if (typeof offered === 'string') continue; // declined: try the next offer (§5.1)
    return answerOffer(offered, options);
  }
  return undefined;
}

function answerOffer(offered: ParsedParams, options: ResolvedPerMessageDeflateOptions): AcceptedOffer {
  // Our compressor: the smaller of what the client allows and what we want. We may name a window the
  // client did not ask for (§7.1.2.1), and we can always honour a limit (8 included: constants.ts).
  const serverMaxWindowBits = Math.min(offered.serverMaxWindowBits ?? MAX_WINDOW_BITS, options.serverMaxWindowBits ?? MAX_WINDOW_BITS);
  const answerServerWindow = offered.serverMaxWindowBits !== undefined || serverMaxWindowBits < MAX_WINDOW_BITS;
  // The client's compressor: limited only if it announced client_max_window_bits (§7.1.2.2); a value in
  // the offer is a limit the client already set itself.
  let clientMaxWindowBits = MAX_WINDOW_BITS;
  let answerClientWindow = false;
  if (offered.clientMaxWindowBits !== undefined) {
    const clientLimit = offered.clientMaxWindowBits === true ? MAX_WINDOW_BITS : offered.clientMaxWindowBits;
    clientMaxWindowBits = Math.min(clientLimit, options.clientMaxWindowBits ?? MAX_WINDOW_BITS);
    answerClientWindow = offered.clientMaxWindowBits !== true || options.clientMaxWindowBits !== undefined;
  }
  const params: PerMessageDeflateParams = {
    serverNoContextTakeover: offered.serverNoContextTakeover || options.serverNoContextTakeover,
    clientNoContextTakeover: offered.clientNoContextTakeover || options.clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
  const answer: ExtensionParam[] = [];
  if (params.serverNoContextTakeover) answer.push({ name: 'server_no_context_takeover', value: true });
  if (params.clientNoContextTakeover) answer.push({ name: 'client_no_context_takeover', value: true });
  if (answerServerWindow) answer.push({ name: 'server_max_window_bits', value: String(serverMaxWindowBits) });
  if (answerClientWindow) answer.push({ name: 'client_max_window_bits', value: String(clientMaxWindowBits) });
  return { params, response: formatExtension({ name: EXTENSION_NAME, params: answer }) };
}

// ── Client (§5.1, §7.1) ─────────────────────────────────────────────────────────────────────────

/** The client's single offer, built from its options (the Sec-WebSocket-Extensions request value). */
export function buildOffer(options: ResolvedPerMessageDeflateOptions): string {
  const params: ExtensionParam[] = [];
  if (options.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: true });
  if (options.clientNoContextTakeover) params.push({ name: 'client_no_context_takeover', value: true });
  if (options.serverMaxWindowBits !== undefined) {
    params.push({ name: 'server_max_window_bits', value: String(options.serverMaxWindowBits) });
  }
  // Always announce client_max_window_bits, as browsers do: a server short of memory may then ask for less.
  params.push({ name: 'client_max_window_bits', value: options.clientMaxWindowBits === undefined ? true : String(options.clientMaxWindowBits) });
  return formatExtension({ name: EXTENSION_NAME, params });
}

export type ResponseCheck = { ok: true; params: PerMessageDeflateParams | undefined } | { ok: false; reason: string };

/**
 * Check the server's Sec-WebSocket-Extensions answer to `buildOffer(options)`. An empty list means the
 * server declined: no compression (`params` undefined). Anything the offer did not allow is a reason
 * to fail the connection (RFC 6455 §4.1, RFC 7692 §5.1).
 */
export function checkResponse(extensions: readonly ExtensionOffer[], options: ResolvedPerMessageDeflateOptions): ResponseCheck {
  if (extensions.length === 0) return { ok: true, params: undefined };
  const [accepted] = extensions;
  if (accepted.name !== EXTENSION_NAME) return { ok: false, reason: `server accepted extension ${accepted.name}, which was not offered` };
  if (extensions.length > 1) return { ok: false, reason: `server accepted ${extensions.length} extensions; one was offered` };
  const answered = parseParams(accepted.params);
  if (typeof answered === 'string') return { ok: false, reason: `server's permessage-deflate response: ${answered}` };
  if (options.serverNoContextTakeover && !answered.serverNoContextTakeover) {
    return { ok: false, reason: 'server did not confirm server_no_context_takeover, which was asked for' };
  }
  if (options.serverMaxWindowBits !== undefined) {
    if (answered.serverMaxWindowBits === undefined) {
      return { ok: false, reason: 'server did not confirm server_max_window_bits, which was asked for' };
    }
    if (answered.serverMaxWindowBits > options.serverMaxWindowBits) {
      return { ok: false, reason: `server_max_window_bits=${answered.serverMaxWindowBits} exceeds the ${options.serverMaxWindowBits} asked for` };
    }
  }
  if (answered.clientMaxWindowBits === true) return { ok: false, reason: 'client_max_window_bits needs a value in a response' };
  if (answered.clientMaxWindowBits !== undefined && options.clientMaxWindowBits !== undefined && answered.clientMaxWindowBits > options.clientMaxWindowBits) {
    return { ok: false, reason: `client_max_window_bits=${answered.clientMaxWindowBits} exceeds the ${options.clientMaxWindowBits} offered` };
  }
  return {
    ok: true,
    params: {
      serverNoContextTakeover: answered.serverNoContextTakeover,
      clientNoContextTakeover: answered.clientNoContextTakeover || options.clientNoContextTakeover,
      serverMaxWindowBits: answered.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: answered.clientMaxWindowBits ?? options.clientMaxWindowBits ?? MAX_WINDOW_BITS,
    },
  };
}

// ── From agreed parameters to each direction's codec ───────────────────────────────────────────

export interface DirectionSettings {
  /** Negotiated window bits, 8–15 (the compressor maps 8 to zlib's 9: constants.ts). */
  windowBits: number;
  /** Reset the zlib state after every message. */
  noContextTakeover: boolean;
}

/** Which agreed parameters govern what this endpoint sends and what it receives. */
export function directionSettings(
  params: PerMessageDeflateParams,
  role: 'server' | 'client',
): { outgoing: DirectionSettings; incoming: DirectionSettings } {
  const server = { windowBits: params.serverMaxWindowBits, noContextTakeover: params.serverNoContextTakeover };
  const client = { windowBits: params.clientMaxWindowBits, noContextTakeover: params.clientNoContextTakeover };
  return role === 'server' ? { outgoing: server, incoming: client } : { outgoing: client, incoming: server };
}
