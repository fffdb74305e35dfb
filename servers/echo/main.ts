// `npm run echo -- --port 9001`: the echo server from the command line.

import { onShutdown, parseFlags, portFlag, type Program } from '../../lib/cli.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1] [--node-http]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).
  --node-http   run on node:http instead of our raw HTTP/1.1 server`,
};

const { values } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'node-http': { type: 'boolean', default: false },
});
const port = portFlag(program, '--port', values.port) ?? 9001;
const stack = values['node-http'] ? 'node' : 'raw';

const echoServer = await startEchoServer({ port, host: values.host, stack });
console.log(`echo server listening on ws://${values.host}:${echoServer.port}/ (${stack === 'raw' ? 'our raw HTTP/1.1 server' : 'node:http'})`);

onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});
