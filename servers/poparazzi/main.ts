// `npm run poparazzi -- --port 8000 --data views.json`: the Poparazzi event stream from the command line.
// Parses the options, starts the server, and on SIGINT/SIGTERM closes every stream and saves the counts.

import { listenOrExit, onShutdown, originFlags, parseFlags, portFlag, TLS_FLAGS, tlsFlags, wholeNumberFlag, type Program } from '../../lib/cli.ts';
import { DataFileError } from './data-file.ts';
import { DEFAULT_AUTHENTICATION_TIMEOUT_MS, startPoparazzi } from './server.ts';

const program: Program = {
  name: 'poparazzi',
  usage: `Usage: npm run poparazzi -- [options]

The Poparazzi event stream (WebSocket on GET /): bearer-token authentication, state echo,
and post view counts that one user cannot inflate.

Options:
  --port N                 port to listen on (default 8000; 0 lets the OS choose)
  --host ADDRESS           address to bind (default 127.0.0.1)
  --data FILE              keep view counts in FILE across restarts (saved atomically)
  --save-interval MS       how often changed counts are saved (default 5000, at least 100)
  --auth-timeout MS        close streams that do not authenticate in time (default ${DEFAULT_AUTHENTICATION_TIMEOUT_MS})
  --view-window MS         one view per user per post per this long (default 3600000)
  --no-sessions            do not serve POST /sessions
  --tls-cert FILE          serve https:// and wss:// with this PEM certificate (needs --tls-key)
  --tls-key FILE           the PEM private key of --tls-cert
  --allowed-origin URL     only browser pages from this origin may open the stream (repeatable;
                           others get 403). Default: any origin (the stream needs a bearer token)
  -h, --help               show this help

HTTP:
  POST /sessions           {"user_id"?: uuid} → {"token","user_id"}
  GET  /posts/ID/views     → {"post_id","views"}`,
};

const { values } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  data: { type: 'string' },
  'save-interval': { type: 'string' },
  'auth-timeout': { type: 'string' },
  'view-window': { type: 'string' },
  'no-sessions': { type: 'boolean', default: false },
  ...TLS_FLAGS,
  'allowed-origin': { type: 'string', multiple: true },
});
const tls = tlsFlags(program, values['tls-cert'], values['tls-key']);
const port = portFlag(program, '--port', values.port) ?? 8000;
const saveIntervalMs = wholeNumberFlag(program, '--save-interval', values['save-interval'], 100) ?? 5000; // faster would mostly fsync
const authenticationTimeoutMs = wholeNumberFlag(program, '--auth-timeout', values['auth-timeout'], 1) ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS;
const viewWindowMs = wholeNumberFlag(program, '--view-window', values['view-window'], 0) ?? 3_600_000;

let server;
try {
  server = await listenOrExit(program, { host: values.host, port }, () => startPoparazzi({
    port,
    host: values.host,
    dataFile: values.data,
    saveIntervalMs,
    authenticationTimeoutMs,
    viewRules: { windowMs: viewWindowMs },
    issueSessions: !values['no-sessions'],
    tls,
    allowedOrigins: originFlags(program, '--allowed-origin', values['allowed-origin']),
  }));
} catch (error) {
  if (error instanceof DataFileError) console.error(`poparazzi: ${error.message}`);
  else console.error(`poparazzi: cannot start: ${(error as Error).message}`);
  process.exit(1);
}

// Ready for a signal before the banner says we are ready.
const running = server;
onShutdown(program, async (signal) => {
  console.log(`\n${signal}: closing streams with 1001${values.data === undefined ? '' : ' and saving view counts'}`);
  await running.close();
});

console.log(`poparazzi stream on ${server.url.replace(/^http/, 'ws')}/${values['no-sessions'] ? '' : ` (sessions: POST ${server.url}/sessions)`}`);
if (values.data !== undefined) console.log(`view counts kept in ${values.data} (${server.ledger.trackedPosts} posts loaded)`);
