// `npm run echo -- --port 9001`: the echo server from the command line.

import { onShutdown, parseFlags, portFlag, type Program } from '../../lib/cli.ts';
import { formatWireEvent } from '../../lib/websocket/wire-format.ts';
import type { WireListener } from '../../lib/websocket/wire-tap.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1] [--deflate] [--trace]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).

  --deflate accept permessage-deflate (RFC 7692) when a client offers it, every message compressed
            (threshold 0): the target for Autobahn's sections 12 and 13
  --trace   print every connection's opening handshake and every frame both ways, decoded field
            by field (FIN, RSV1-3, opcode, MASK, length form, masking key, payload); slow: for learning`,
};

const { values } = parseFlags(program, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, trace: { type: 'boolean' }, deflate: { type: 'boolean' } });
const port = portFlag(program, '--port', values.port) ?? 9001;

/** With --trace, each connection gets a number and its frames are printed as they pass. */
let tracedConnections = 0;
function traceConnection(): WireListener {
  const labels = { in: `#${++tracedConnections} client→server`, out: `#${tracedConnections} server→client` };
  return (event) => console.log(formatWireEvent(event, labels));
}

const echoServer = await startEchoServer({
  port,
  host: values.host,
  trace: values.trace ? traceConnection : undefined,
  perMessageDeflate: values.deflate ? { threshold: 0 } : undefined,
});
console.log(`echo server listening on ws://${values.host}:${echoServer.port}/`);

onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});
