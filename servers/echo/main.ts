// `npm run echo -- --port 9001`: the echo server from the command line.

import { listenOrExit, onShutdown, originFlags, parseFlags, portFlag, TLS_FLAGS, tlsFlags, urlHost, type Program } from '../../lib/cli.ts';
import { formatWireEvent } from '../../lib/websocket/wire-format.ts';
import type { WireListener } from '../../lib/websocket/wire-tap.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1] [--tls-cert FILE --tls-key FILE]
                     [--allowed-origin URL]... [--deflate] [--node-http] [--trace]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).
With --tls-cert and --tls-key (PEM files, both or neither) it serves wss:// instead of ws://.

  --allowed-origin URL   only browser pages from this origin may connect (repeatable; others get 403).
                         Default: any origin, as conformance suites and test pages expect.
  --deflate              accept permessage-deflate (RFC 7692) when a client offers it, every message
                         compressed (threshold 0): the target for Autobahn's sections 12 and 13
  --node-http            run on node:http instead of our raw HTTP/1.1 server
  --trace                print every connection's opening handshake and every frame both ways, decoded
                         field by field (FIN, RSV1-3, opcode, MASK, length form, masking key, payload);
                         slow: for learning`,
};

const { values } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'allowed-origin': { type: 'string', multiple: true },
  deflate: { type: 'boolean' },
  'node-http': { type: 'boolean', default: false },
  trace: { type: 'boolean' },
  ...TLS_FLAGS,
});
const port = portFlag(program, '--port', values.port) ?? 9001;
const tls = tlsFlags(program, values['tls-cert'], values['tls-key']);
const allowedOrigins = originFlags(program, '--allowed-origin', values['allowed-origin']);
const stack = values['node-http'] ? 'node' : 'raw';

/** With --trace, each connection gets a number and its frames are printed as they pass. */
let tracedConnections = 0;
function traceConnection(): WireListener {
  const labels = { in: `#${++tracedConnections} client→server`, out: `#${tracedConnections} server→client` };
  return (event) => console.log(formatWireEvent(event, labels));
}

const echoServer = await listenOrExit(program, { host: values.host, port }, () => startEchoServer({
  port,
  host: values.host,
  stack,
  tls,
  allowedOrigins,
  trace: values.trace ? traceConnection : undefined,
  perMessageDeflate: values.deflate ? { threshold: 0 } : undefined,
}));
// Ready for a signal before the banner says we are ready.
onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});

console.log(`echo server listening on ${tls === undefined ? 'ws' : 'wss'}://${urlHost(values.host)}:${echoServer.port}/ (${stack === 'raw' ? 'our raw HTTP/1.1 server' : 'node:http'})`);
