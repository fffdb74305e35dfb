// Command line for BATCHAT, the telnet chat server: `npm run batchat -- --port 1337`.
// Parses flags, starts the server, and shuts it down politely on SIGINT/SIGTERM.

import { listenOrExit, onShutdown, parseFlags, portFlag, urlHost, wholeNumberFlag, type Program } from '../../lib/cli.ts';
import { startBatchat } from './server.ts';

const program: Program = {
  name: 'batchat',
  usage: `Usage: npm run batchat -- [options]

BATCHAT: a chat server for telnet (or nc). Connect with: telnet localhost 1337

Options:
  --port N        TCP port to listen on (default 1337; 0 picks a free port)
  --host ADDR     address to listen on (default: all interfaces)
  --max-users N   connections allowed at once (default 100)
  --help          show this help`,
};

const { values: flags } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string' },
  'max-users': { type: 'string' },
});
const port = portFlag(program, '--port', flags.port) ?? 1337;
const maxUsers = wholeNumberFlag(program, '--max-users', flags['max-users'], 1, 100_000);

const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
};

const chat = await listenOrExit(program, { host: flags.host, port }, () => startBatchat({ port, host: flags.host, maxUsers, log }));
// Ready for a signal before the banner says we are ready.
onShutdown(program, async (signal) => {
  log(`${signal}: telling users the server is going down`);
  await chat.close();
  log('BATCHAT stopped');
});

log(`BATCHAT listening on ${flags.host === undefined ? '*' : urlHost(flags.host)}:${chat.port} (try: telnet ${flags.host ?? 'localhost'} ${chat.port})`);
