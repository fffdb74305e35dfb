// Sec-WebSocket-Extensions (RFC 6455 §9.1) and the permessage-deflate negotiation (RFC 7692 §5, §7.1):
// the header grammar with hostile input, the server's choice among offers, the client's offer and its
// check of the answer, and agreement with ws's implementation of both roles.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatExtensions,
  MAX_EXTENSION_OFFERS,
  MAX_EXTENSION_PARAMS,
  parseExtensions,
  type ExtensionOffer,
} from '../lib/websocket/extensions.ts';
import {
  acceptOffer,
  buildOffer,
  checkResponse,
  directionSettings,
  type PerMessageDeflateParams,
} from '../lib/websocket/permessage-deflate/negotiation.ts';
import {
  DEFAULT_PER_MESSAGE_DEFLATE,
  resolvePerMessageDeflate,
  type PerMessageDeflateOptions,
} from '../lib/websocket/permessage-deflate/options.ts';
import { WsPerMessageDeflate, wsExtension } from './helpers/ws-internals.ts';


function offers(header: string | string[]): ExtensionOffer[] {
  const parsed = parseExtensions(header);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.offers;
}

function options(option: PerMessageDeflateOptions | true = true) {
  return resolvePerMessageDeflate(option)!;
}

describe('Sec-WebSocket-Extensions grammar (RFC 6455 §9.1)', () => {
  test('offers, parameters with and without values, in order', () => {
    assert.deepEqual(offers('permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate'), [
      {
        name: 'permessage-deflate',
        params: [
          { name: 'client_max_window_bits', value: true },
          { name: 'server_max_window_bits', value: '10' },
        ],
      },
      { name: 'permessage-deflate', params: [] },
    ]);
  });

  test('several header lines are one list, in order', () => {
    assert.deepEqual(
      offers(['foo', 'permessage-deflate;x=1, bar']).map((offer) => offer.name),
      ['foo', 'permessage-deflate', 'bar'],
    );
  });

  test('a quoted value is unquoted, escapes included, and must still be a token', () => {
    assert.deepEqual(offers('e; a="10"; b="x\\y"')[0].params, [
      { name: 'a', value: '10' },
      { name: 'b', value: 'xy' },
    ]);
    for (const bad of ['e; a="a b"', 'e; a=""', 'e; a="1,2"', 'e; a="x', 'e; a="\\']) {
      assert.equal(parseExtensions(bad).ok, false, bad);
    }
  });

  test('optional whitespace and empty list elements are accepted', () => {
    assert.deepEqual(offers(' ,a \t;\tb = 1 ,, c ; d ,'), [
      { name: 'a', params: [{ name: 'b', value: '1' }] },
      { name: 'c', params: [{ name: 'd', value: true }] },
    ]);
    assert.deepEqual(offers(''), []);
    assert.deepEqual(parseExtensions(undefined), { ok: true, offers: [] });
  });

  test('malformed headers come back as a reason, never a throw', () => {
    const malformed = [
      ';x',
      'a;',
      'a; ;b',
      'a b',
      'a=1',
      'a; x=',
      'a; =1',
      'a; x=1=2',
      'a; x=1 2',
      'a; x="1"2',
      'a; x=é',
      'pérmessage',
      'a\u0000',
      'a; x="\u0001"',
      'a; x=(1)',
      '"a"',
    ];
    for (const header of malformed) {
      const parsed = parseExtensions(header);
      assert.equal(parsed.ok, false, header);
      if (!parsed.ok) assert.match(parsed.reason, /malformed Sec-WebSocket-Extensions/);
    }
  });

  test('hostile sizes: too many offers or parameters are refused, long garbage is one linear pass', () => {
    assert.equal(parseExtensions(Array(MAX_EXTENSION_OFFERS).fill('a').join(',')).ok, true);
    assert.equal(parseExtensions(Array(MAX_EXTENSION_OFFERS + 1).fill('a').join(',')).ok, false);
    assert.equal(parseExtensions('a' + '; p'.repeat(MAX_EXTENSION_PARAMS)).ok, true);
    assert.equal(parseExtensions('a' + '; p'.repeat(MAX_EXTENSION_PARAMS + 1)).ok, false);
    // Shapes that make backtracking parsers crawl; here each is a single pass that ends in a verdict.
    assert.equal(parseExtensions('a; x="' + '\\"'.repeat(200_000)).ok, false);
    assert.equal(parseExtensions('a' + ' '.repeat(500_000) + 'b').ok, false);
    assert.equal(parseExtensions(','.repeat(500_000)).ok, true);
    assert.equal(parseExtensions('a;' + ' \t'.repeat(200_000)).ok, false);
    assert.equal(parseExtensions('x'.repeat(1_000_000)).ok, true);
  });

  test('formatting round-trips, quoting what is not a token', () => {
    const list: ExtensionOffer[] = [
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: true }, { name: 'server_max_window_bits', value: '9' }] },
      { name: 'x-other', params: [] },
    ];
    const header = formatExtensions(list);
    assert.equal(header, 'permessage-deflate; client_max_window_bits; server_max_window_bits=9, x-other');
    assert.deepEqual(offers(header), list);
    assert.equal(formatExtensions([{ name: 'e', params: [{ name: 'a', value: 'b c' }] }]), 'e; a="b c"');
  });

  test('agrees with ws on every well-formed header it parses', () => {
    const headers = [
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate; server_max_window_bits="10"; client_no_context_takeover, permessage-deflate',
      'foo, bar; baz=1; qux',
    ];
    for (const header of headers) {
      const ours = offers(header);
      const theirs = wsExtension.parse(header);
      const flattened: Record<string, Record<string, (string | true)[]>[]> = {};
      for (const offer of ours) {
        const params: Record<string, (string | true)[]> = {};
        for (const param of offer.params) (params[param.name] ??= []).push(param.value);
        (flattened[offer.name] ??= []).push(params);
      }
      assert.deepEqual(JSON.parse(JSON.stringify(flattened)), JSON.parse(JSON.stringify(theirs)), header);
    }
  });
});

describe('permessage-deflate options', () => {
  test('true means the documented defaults; false and undefined mean off', () => {
    assert.deepEqual(resolvePerMessageDeflate(true), DEFAULT_PER_MESSAGE_DEFLATE);
    assert.equal(resolvePerMessageDeflate(false), undefined);
    assert.equal(resolvePerMessageDeflate(undefined), undefined);
    assert.deepEqual(resolvePerMessageDeflate({ level: 1 }), { ...DEFAULT_PER_MESSAGE_DEFLATE, level: 1 });
  });

  test('out-of-range values are the application’s mistake: RangeError at once', () => {
    for (const bad of [{ serverMaxWindowBits: 7 }, { clientMaxWindowBits: 16 }, { level: 10 }, { memLevel: 0 }, { threshold: -1 }, { serverMaxWindowBits: 9.5 }]) {
      assert.throws(() => resolvePerMessageDeflate(bad), RangeError, JSON.stringify(bad));
    }
  });
});

const FULL: PerMessageDeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

describe('server: accepting an offer (RFC 7692 §5.1, §7.1)', () => {
  const table: { offer: string; options?: PerMessageDeflateOptions; response: string | undefined; params?: Partial<PerMessageDeflateParams> }[] = [
    { offer: 'permessage-deflate', response: 'permessage-deflate' },
    { offer: 'permessage-deflate; client_max_window_bits', response: 'permessage-deflate' },
    { offer: 'permessage-deflate; client_max_window_bits=10', response: 'permessage-deflate; client_max_window_bits=10', params: { clientMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; client_max_window_bits', options: { clientMaxWindowBits: 11 }, response: 'permessage-deflate; client_max_window_bits=11', params: { clientMaxWindowBits: 11 } },
    { offer: 'permessage-deflate; client_max_window_bits=9', options: { clientMaxWindowBits: 11 }, response: 'permessage-deflate; client_max_window_bits=9', params: { clientMaxWindowBits: 9 } },
    // A client that did not announce client_max_window_bits cannot be limited: accepted with 15.
    { offer: 'permessage-deflate', options: { clientMaxWindowBits: 11 }, response: 'permessage-deflate' },
    { offer: 'permessage-deflate; server_max_window_bits=12', response: 'permessage-deflate; server_max_window_bits=12', params: { serverMaxWindowBits: 12 } },
    { offer: 'permessage-deflate; server_max_window_bits=8', response: 'permessage-deflate; server_max_window_bits=8', params: { serverMaxWindowBits: 8 } },
    { offer: 'permessage-deflate; server_max_window_bits=12', options: { serverMaxWindowBits: 10 }, response: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    { offer: 'permessage-deflate; server_max_window_bits=10', options: { serverMaxWindowBits: 12 }, response: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    { offer: 'permessage-deflate', options: { serverMaxWindowBits: 9 }, response: 'permessage-deflate; server_max_window_bits=9', params: { serverMaxWindowBits: 9 } },
    { offer: 'permessage-deflate; server_no_context_takeover', response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    { offer: 'permessage-deflate; client_no_context_takeover', response: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    { offer: 'permessage-deflate', options: { serverNoContextTakeover: true, clientNoContextTakeover: true }, response: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', params: { serverNoContextTakeover: true, clientNoContextTakeover: true } },
    { offer: 'permessage-deflate; server_max_window_bits="11"', response: 'permessage-deflate; server_max_window_bits=11', params: { serverMaxWindowBits: 11 } },
    // Declined offers: the next one is taken; none left means no extension.
    { offer: 'permessage-deflate; unknown_param, permessage-deflate', response: 'permessage-deflate' },
    { offer: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', response: undefined },
    { offer: 'permessage-deflate; client_max_window_bits; client_max_window_bits=10', response: undefined },
    { offer: 'permessage-deflate; server_max_window_bits', response: undefined },
    { offer: 'permessage-deflate; server_max_window_bits=7', response: undefined },
    { offer: 'permessage-deflate; server_max_window_bits=16', response: undefined },
    { offer: 'permessage-deflate; server_max_window_bits=010', response: undefined },
    { offer: 'permessage-deflate; client_max_window_bits=+9', response: undefined },
    { offer: 'permessage-deflate; server_no_context_takeover=1', response: undefined },
    { offer: 'permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9', response: 'permessage-deflate; server_max_window_bits=9', params: { serverMaxWindowBits: 9 } },
    { offer: 'x-webkit-deflate-frame', response: undefined },
    { offer: 'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits', response: 'permessage-deflate' },
  ];
  for (const row of table) {
    test(`${row.offer}${row.options ? ' with ' + JSON.stringify(row.options) : ''} → ${row.response ?? 'declined'}`, () => {
      const accepted = acceptOffer(offers(row.offer), options(row.options));
      if (row.response === undefined) {
        assert.equal(accepted, undefined);
        return;
      }
      assert.ok(accepted);
      assert.equal(accepted.response, row.response);
      assert.deepEqual(accepted.params, { ...FULL, ...row.params });
    });
  }

  test('every window size 8–15 a client asks for is honoured', () => {
    for (let bits = 8; bits <= 15; bits++) {
      const accepted = acceptOffer(offers(`permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`), options());
      assert.deepEqual(accepted?.params, { ...FULL, serverMaxWindowBits: bits, clientMaxWindowBits: bits });
    }
  });
});

describe('client: the offer and the check of the answer (RFC 7692 §5.1, §7.1)', () => {
  test('the offer follows the options; by default it is what browsers send', () => {
    assert.equal(buildOffer(options()), 'permessage-deflate; client_max_window_bits');
    assert.equal(
      buildOffer(options({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 })),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
    );
  });

  const table: { options?: PerMessageDeflateOptions; response: string; params?: Partial<PerMessageDeflateParams> | 'none'; fails?: RegExp }[] = [
    { response: '', params: 'none' },
    { response: 'permessage-deflate', params: {} },
    { response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    { response: 'permessage-deflate; client_no_context_takeover', params: { clientNoContextTakeover: true } },
    { response: 'permessage-deflate; server_max_window_bits=9', params: { serverMaxWindowBits: 9 } },
    { response: 'permessage-deflate; client_max_window_bits=8', params: { clientMaxWindowBits: 8 } },
    { options: { clientMaxWindowBits: 12 }, response: 'permessage-deflate', params: { clientMaxWindowBits: 12 } },
    { options: { clientMaxWindowBits: 12 }, response: 'permessage-deflate; client_max_window_bits=10', params: { clientMaxWindowBits: 10 } },
    { options: { clientNoContextTakeover: true }, response: 'permessage-deflate', params: { clientNoContextTakeover: true } },
    { options: { serverMaxWindowBits: 10 }, response: 'permessage-deflate; server_max_window_bits=10', params: { serverMaxWindowBits: 10 } },
    { options: { serverMaxWindowBits: 10 }, response: 'permessage-deflate; server_max_window_bits=8', params: { serverMaxWindowBits: 8 } },
    { options: { serverNoContextTakeover: true }, response: 'permessage-deflate; server_no_context_takeover', params: { serverNoContextTakeover: true } },
    // Answers the offer did not allow: the connection fails.
    { response: 'x-webkit-deflate-frame', fails: /not offered/ },
    { response: 'permessage-deflate, permessage-deflate', fails: /2 extensions/ },
    { response: 'permessage-deflate; foo', fails: /unknown parameter foo/ },
    { response: 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', fails: /twice/ },
    { response: 'permessage-deflate; server_max_window_bits=16', fails: /8 to 15/ },
    { response: 'permessage-deflate; server_max_window_bits', fails: /8 to 15/ },
    { response: 'permessage-deflate; client_max_window_bits', fails: /needs a value/ },
    { response: 'permessage-deflate; client_no_context_takeover=yes', fails: /takes no value/ },
    { options: { clientMaxWindowBits: 10 }, response: 'permessage-deflate; client_max_window_bits=11', fails: /exceeds/ },
    { options: { serverMaxWindowBits: 10 }, response: 'permessage-deflate', fails: /did not confirm server_max_window_bits/ },
    { options: { serverMaxWindowBits: 10 }, response: 'permessage-deflate; server_max_window_bits=11', fails: /exceeds/ },
    { options: { serverNoContextTakeover: true }, response: 'permessage-deflate', fails: /did not confirm server_no_context_takeover/ },
  ];
  for (const row of table) {
    test(`${row.options ? JSON.stringify(row.options) + ', ' : ''}answer "${row.response}" → ${row.fails ? 'fails' : 'accepted'}`, () => {
      const result = checkResponse(offers(row.response), options(row.options));
      if (row.fails) {
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.reason, row.fails);
        return;
      }
      assert.ok(result.ok);
      if (row.params === 'none') assert.equal(result.params, undefined);
      else assert.deepEqual(result.params, { ...FULL, ...row.params });
    });
  }
});

describe('each direction follows its side of the agreement', () => {
  test('the server sends with server_* and receives with client_*; the client the reverse', () => {
    const params = { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 9, clientMaxWindowBits: 12 };
    assert.deepEqual(directionSettings(params, 'server'), {
      outgoing: { windowBits: 9, noContextTakeover: true },
      incoming: { windowBits: 12, noContextTakeover: false },
    });
    assert.deepEqual(directionSettings(params, 'client'), {
      outgoing: { windowBits: 12, noContextTakeover: false },
      incoming: { windowBits: 9, noContextTakeover: true },
    });
  });
});

describe('negotiation interop with ws (both roles)', () => {
  const combos: PerMessageDeflateOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 9 },
    { clientMaxWindowBits: 10 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 11 },
  ];

  function wsParams(params: Record<string, unknown>): PerMessageDeflateParams {
    return {
      serverNoContextTakeover: params.server_no_context_takeover === true,
      clientNoContextTakeover: params.client_no_context_takeover === true,
      serverMaxWindowBits: typeof params.server_max_window_bits === 'number' ? params.server_max_window_bits : 15,
      clientMaxWindowBits: typeof params.client_max_window_bits === 'number' ? params.client_max_window_bits : 15,
    };
  }

  for (const combo of combos) {
    test(`our client offer ${JSON.stringify(combo)} → ws server → our check agrees with ws`, () => {
      const server = new WsPerMessageDeflate({ isServer: true });
      const request = buildOffer(options(combo));
      const wsAccepted = server.accept(wsExtension.parse(request)['permessage-deflate']);
      const response = wsExtension.format({ 'permessage-deflate': wsAccepted });
      const result = checkResponse(offers(response), options(combo));
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.deepEqual(result.params, { ...wsParams(wsAccepted), clientNoContextTakeover: result.params!.clientNoContextTakeover });
    });

    test(`ws client offer ${JSON.stringify(combo)} → our server → ws accepts our answer`, () => {
      const client = new WsPerMessageDeflate({ ...combo, isServer: false });
      const request = wsExtension.format({ 'permessage-deflate': [client.offer()] });
      const accepted = acceptOffer(offers(request), options(combo));
      assert.ok(accepted, request);
      const clientParams = client.accept(wsExtension.parse(accepted.response)['permessage-deflate']);
      assert.deepEqual(wsParams(clientParams), accepted.params);
    });
  }
});
