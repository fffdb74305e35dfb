// `npm run echo -- --port 9001`: the echo server from the command line.

import { parseArgs } from 'node:util';
import { startEchoServer } from './server.ts';

const USAGE = `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1]

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).`;

const { values } = parseArgs({
  options: { port: { type: 'string', default: '9001' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const echoServer = await startEchoServer({ port: Number(values.port), host: values.host });
console.log(`echo server listening on ws://${values.host}:${echoServer.port}/`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: closing every connection with 1001`);
    void echoServer.close().then(() => process.exit(0));
  });
}
