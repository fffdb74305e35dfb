// Command line for the hello server: `npm run hello -- --port 8080 [--host 0.0.0.0] [--stack node]`.
// Shuts down cleanly on SIGINT/SIGTERM: stops accepting, finishes responses in flight, then exits.
import { parseArgs } from 'node:util';
import { startHello } from './app.ts';

const USAGE = `Usage: npm run hello -- [--port 8080] [--host 127.0.0.1] [--stack raw|node]

Serves a Hello World page that shows the HTTP request it received.
  --port   TCP port to listen on (default 8080; 0 picks a free one)
  --host   address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --stack  raw: this project's HTTP/1.1 server (default); node: the same routes on node:http
  --help   show this text`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      stack: { type: 'string', default: 'raw' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got "${values.port}"`);
if (values.stack !== 'raw' && values.stack !== 'node') fail(`--stack must be raw or node, got "${values.stack}"`);

const server = await startHello({ port, host: values.host, stack: values.stack }).catch((error: Error) => fail(`cannot listen: ${error.message}`));
console.log(`hello-http (${values.stack} stack) listening on http://${values.host}:${server.port}/`);

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) process.exit(1); // a second Ctrl-C means "now"
  stopping = true;
  console.log(`${signal}: closing`);
  // Keep-alive clients that never send again should not hold the exit for long.
  setTimeout(() => process.exit(0), 3000).unref();
  void server.close().then(() => process.exit(0));
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
