// `npm run wscat -- URL`: an interactive WebSocket client for the terminal (like the npm wscat),
// built on lib/websocket: each typed line is sent, each message received is printed.

import { onShutdownSignal, parseFlags, positiveNumberFlag, urlFlag, usageError, type Program } from '../../lib/cli.ts';
import { parseHeader, RECEIVED_MARKERS_HELP } from './commands.ts';
import { startSession } from './session.ts';

const program: Program = {
  name: 'wscat',
  usage: `Usage: npm run wscat -- [options] URL

Connects to a WebSocket server (ws://, wss://, http:// or https://), sends each line you type as a
text message and prints every message received (binary as its length and hex).

Options:
  -p, --protocol NAME      offer a subprotocol (repeatable)
  -H, --header "Name: v"   add a header to the opening handshake (repeatable)
  -k, --insecure           accept a self-signed or otherwise untrusted TLS certificate
      --timeout MS         opening handshake timeout (default 10000)
      --deflate            offer permessage-deflate (compressed messages, RFC 7692)
      --trace              show the opening handshake and every frame both ways, decoded field by
                           field (FIN, RSV1-3, opcode, MASK, length form, masking key, payload)
  -h, --help               show this help

Commands once connected: /ping [text], /close [code] [reason], /binary <hex>, /help.
${RECEIVED_MARKERS_HELP}
Ctrl-D (end of input) or Ctrl-C closes with 1000; a second Ctrl-C cuts the connection.
Exit status: 0 after a normal close (1000/1001, or any /close you typed), 1 after a failed handshake
or any other close, 2 for bad usage.`,
};

const { values, positionals } = parseFlags(program, {
  protocol: { type: 'string', short: 'p', multiple: true },
  header: { type: 'string', short: 'H', multiple: true },
  insecure: { type: 'boolean', short: 'k' },
  timeout: { type: 'string' },
  trace: { type: 'boolean' },
  deflate: { type: 'boolean' },
}, { allowPositionals: true });
if (positionals.length !== 1) usageError(program, positionals.length === 0 ? 'a URL is needed' : 'only one URL, please');
const url = urlFlag(program, 'URL', positionals[0]!, ['ws:', 'wss:', 'http:', 'https:']);

const headers: Record<string, string> = {};
for (const text of values.header ?? []) {
  const header = parseHeader(text);
  if (typeof header === 'string') usageError(program, header);
  headers[header[0]] = header[1];
}
const handshakeTimeoutMs = positiveNumberFlag(program, '--timeout', values.timeout);

const session = startSession({
  url,
  protocols: values.protocol ?? [],
  headers,
  insecure: values.insecure ?? false,
  input: process.stdin,
  output: process.stdout,
  status: process.stderr,
  handshakeTimeoutMs,
  trace: values.trace ?? false,
  deflate: values.deflate ?? false,
});
// The session decides what a signal means: the first closes with 1000, a second cuts the connection.
onShutdownSignal(() => session.interrupt());
const status = await session.finished;
// stdin may still hold the event loop open (a terminal): leave explicitly once the output is written.
process.stdout.write('', () => process.exit(status));
