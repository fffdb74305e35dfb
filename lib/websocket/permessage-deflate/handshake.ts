// permessage-deflate in the opening handshake: RFC 7692 §5 over RFC 6455 §9.1. The glue between the
// Sec-WebSocket-Extensions header (extensions.ts) and the pure negotiation (negotiation.ts), so the
// server's and the client's handshake code each make one call.

import { parseExtensions } from '../extensions.ts';
import { acceptOffer, buildOffer, checkResponse, type PerMessageDeflateParams } from './negotiation.ts';
import { resolvePerMessageDeflate, type PerMessageDeflateOptions, type ResolvedPerMessageDeflateOptions } from './options.ts';

/** What a connection needs once permessage-deflate is agreed. */
export interface DeflateAgreement {
  params: PerMessageDeflateParams;
  options: ResolvedPerMessageDeflateOptions;
}

export type ServerNegotiation =
  | { ok: true; agreement: DeflateAgreement | undefined; responseHeader: string | undefined }
  | { ok: false; reason: string };

/**
 * Server: answer the client's offers. Extension off, or no acceptable offer: no extension (§5.1, an
 * offer is declined, not refused). A header that does not parse at all is refused (400), as ws does.
 */
export function negotiateAsServer(header: string | readonly string[] | undefined, option: boolean | PerMessageDeflateOptions | undefined): ServerNegotiation {
  const options = resolvePerMessageDeflate(option);
  if (options === undefined || header === undefined) return { ok: true, agreement: undefined, responseHeader: undefined };
  const parsed = parseExtensions(header);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const accepted = acceptOffer(parsed.offers, options);
  if (accepted === undefined) return { ok: true, agreement: undefined, responseHeader: undefined };
  return { ok: true, agreement: { params: accepted.params, options }, responseHeader: accepted.response };
}

/** Client: the offer to send (the Sec-WebSocket-Extensions value), or undefined when the extension is off. */
export function offerAsClient(option: boolean | PerMessageDeflateOptions | undefined): { options: ResolvedPerMessageDeflateOptions; header: string } | undefined {
  const options = resolvePerMessageDeflate(option);
  return options === undefined ? undefined : { options, header: buildOffer(options) };
}

export type ClientNegotiation = { ok: true; agreement: DeflateAgreement | undefined } | { ok: false; reason: string };

/** Client: check the server's answer to our offer (`options` undefined: we offered nothing). */
export function checkAsClient(header: string | undefined, options: ResolvedPerMessageDeflateOptions | undefined): ClientNegotiation {
  if (header === undefined) return { ok: true, agreement: undefined };
  if (options === undefined) return { ok: false, reason: 'server chose an extension the client did not offer' };
  const parsed = parseExtensions(header);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const checked = checkResponse(parsed.offers, options);
  if (!checked.ok) return checked;
  return { ok: true, agreement: checked.params === undefined ? undefined : { params: checked.params, options } };
}
