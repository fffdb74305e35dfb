// `npm run echo -- --port 9001`: the echo server from the command line.

import { listenOrExit, onShutdown, parseFlags, portFlag, urlHost, type Program } from '../../lib/cli.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).`,
};

const { values } = parseFlags(program, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
const port = portFlag(program, '--port', values.port) ?? 9001;

const echoServer = await listenOrExit(program, { host: values.host, port }, () => startEchoServer({ port, host: values.host }));
// Ready for a signal before the banner says we are ready.
onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});

console.log(`echo server listening on ws://${urlHost(values.host)}:${echoServer.port}/`);
