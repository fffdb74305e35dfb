// `npm run echo -- --port 9001`: the echo server from the command line.

import { onShutdown, originFlags, parseFlags, portFlag, type Program } from '../../lib/cli.ts';
import { startEchoServer } from './server.ts';

const program: Program = {
  name: 'echo',
  usage: `Usage: npm run echo -- [--port 9001] [--host 127.0.0.1] [--allowed-origin URL]...

A WebSocket echo server: text comes back as text, binary as binary, on any path.
The usual target for conformance suites (e.g. Autobahn's fuzzingclient).

  --allowed-origin URL   only browser pages from this origin may connect (repeatable; others get 403).
                         Default: any origin, as conformance suites and test pages expect.`,
};

const { values } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'allowed-origin': { type: 'string', multiple: true },
});
const port = portFlag(program, '--port', values.port) ?? 9001;
const allowedOrigins = originFlags(program, '--allowed-origin', values['allowed-origin']);

const echoServer = await startEchoServer({ port, host: values.host, allowedOrigins });
console.log(`echo server listening on ws://${values.host}:${echoServer.port}/`);

onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing every connection with 1001`);
  await echoServer.close();
});
