// `npm run echo -- --port 9001`: the echo server from the command line.

import { onShutdown, parseFlags, portFlag, TLS_FLAGS, tlsFlags, type Program } from '../../lib/cli.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1] [--tls-cert FILE --tls-key FILE]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).
With --tls-cert and --tls-key (PEM files, both or neither) it serves wss:// instead of ws://.`,
};

const { values } = parseFlags(program, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, ...TLS_FLAGS });
const port = portFlag(program, '--port', values.port) ?? 9001;
const tls = tlsFlags(program, values['tls-cert'], values['tls-key']);

const echoServer = await startEchoServer({ port, host: values.host, tls });
console.log(`echo server listening on ${tls === undefined ? 'ws' : 'wss'}://${values.host}:${echoServer.port}/`);

onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});
