// Command line for the hello server: `npm run hello -- --port 8080 [--host 0.0.0.0] [--stack node]`.
// Shuts down cleanly on SIGINT/SIGTERM: stops accepting, finishes responses in flight, then exits.
import { listenOrExit, onShutdown, parseFlags, portFlag, urlHost, usageError, type Program } from '../../lib/cli.ts';
import { startHello } from './app.ts';

const program: Program = {
  name: 'hello-http',
  usage: `Usage: npm run hello -- [--port 8080] [--host 127.0.0.1] [--stack raw|node]

Serves a Hello World page that shows the HTTP request it received.
  --port   TCP port to listen on (default 8080; 0 picks a free one)
  --host   address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --stack  raw: this project's HTTP/1.1 server (default); node: the same routes on node:http
  --help   show this text`,
};

const { values } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  stack: { type: 'string', default: 'raw' },
});
const port = portFlag(program, '--port', values.port) ?? 8080;
const stack = values.stack;
if (stack !== 'raw' && stack !== 'node') usageError(program, `--stack must be raw or node, got "${stack}"`);

const server = await listenOrExit(program, { host: values.host, port }, () => startHello({ port, host: values.host, stack }));
// Ready for a signal before the banner says we are ready.
onShutdown(program, async (signal) => {
  console.log(`${signal}: closing`);
  await server.close();
}, { forceAfterMs: 3000 }); // keep-alive clients that never send again should not hold the exit for long

console.log(`hello-http (${stack} stack) listening on http://${urlHost(values.host)}:${server.port}/`);
