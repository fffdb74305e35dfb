// Command line for BATCHAT, the telnet chat server: `npm run batchat -- --port 1337`.
// Parses flags, starts the server, and shuts it down politely on SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import { startBatchat } from './server.ts';

const USAGE = `Usage: npm run batchat -- [options]

BATCHAT: a chat server for telnet (or nc). Connect with: telnet localhost 1337

Options:
  --port N        TCP port to listen on (default 1337; 0 picks a free port)
  --host ADDR     address to listen on (default: all interfaces)
  --max-users N   connections allowed at once (default 100)
  --help          show this help
`;

function fail(message: string): never {
  process.stderr.write(`batchat: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function integerFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    fail(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

let flags;
try {
  flags = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'max-users': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}

if (flags.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
};

const port = integerFlag('port', flags.port, 0, 65535) ?? 1337;
const maxUsers = integerFlag('max-users', flags['max-users'], 1, 100_000);

let chat;
try {
  chat = await startBatchat({ port, host: flags.host, maxUsers, log });
} catch (error) {
  fail(`cannot listen on ${flags.host ?? '*'}:${port}: ${(error as Error).message}`);
}
log(`BATCHAT listening on ${flags.host ?? '*'}:${chat.port} (try: telnet localhost ${chat.port})`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    // A second Ctrl-C means "now": don't wait for slow clients to say goodbye.
    log(`${signal} again, exiting at once`);
    process.exit(1);
  }
  stopping = true;
  log(`${signal}: telling users the server is going down`);
  chat.close().then(() => log('BATCHAT stopped'));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
