// `npm start`: the all-in-one North Pole server. Day 19, Poparazzi, the chit-chat stand-in and Hello World
// share one Router on one HTTP port (our raw HTTP/1.1 server, or node:http with --node-http); BATCHAT
// listens on its own TCP port. SIGINT/SIGTERM close every WebSocket with 1001, then the listeners.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listenOrExit, onShutdown, originFlags, parseFlags, portFlag, refuseFlags, TLS_FLAGS, tlsFlags, urlHost, usageError, type Program } from '../lib/cli.ts';
import { html } from '../lib/http/responses.ts';
import { Router, type RouteRequest } from '../lib/http/router.ts';
import { listenRouter } from '../lib/http/listen.ts';
import { startBatchat } from './batchat/server.ts';
import { registerDay19 } from './cch19/routes.ts';
import { registerTeamsStandin } from './teams-standin/standin.ts';
import { serveStaticFiles } from './cch19/static-files.ts';
import { registerChitchatStandin } from './chitchat-standin/standin.ts';
import { createHelloRouter, escapeHtml } from './hello-http/app.ts';
import { registerPoparazzi } from './poparazzi/server.ts';
import { registerWireInspector } from './wire/routes.ts';
import { redisFlag, startSharedMode, type SharedMode } from './north-pole-shared.ts';
import { followPrimary, isWorkerProcess, runWorkers, workersFlag } from './shared/workers.ts';

const program: Program = {
  name: 'north-pole',
  usage: `Usage: npm start -- [options]

The all-in-one North Pole server: every HTTP and WebSocket service of the project on one port,
and the BATCHAT telnet chat on its own.

Options:
  --port N          HTTP port (default: the PORT environment variable, else 8000; 0 picks a free port)
  --host ADDR       address to listen on (default 127.0.0.1; use 0.0.0.0 to accept other machines)
  --node-http       run the same routes on node:http instead of our raw HTTP/1.1 server
  --chat-port N     BATCHAT's TCP port (default 1337; 0 picks a free port)
  --no-chat         do not start BATCHAT
  --tls-cert FILE   serve https:// and wss:// with this PEM certificate (needs --tls-key;
                    BATCHAT stays plain TCP, as telnet is)
  --tls-key FILE    the PEM private key of --tls-cert
  --allowed-origin URL
                    only browser pages from this origin may open a WebSocket (repeatable; others
                    get 403, the defence against cross-site WebSocket hijacking). Default: any
                    origin, because the challenges' validators and pages elsewhere must connect and
                    no service here trusts cookies; set it when you put the server on a network
  --redis URL       shared mode: join every process started with the same Redis (redis:// or rediss://;
                    default: the REDIS_URL environment variable, else this process alone). Day 19's
                    rooms and views, the chat and Poparazzi's sessions and view counts are then shared,
                    and Redis's own persistence (RDB/AOF) is what keeps Poparazzi's counts across
                    restarts, in place of a data file. See docs/scaling.md
  --workers N       run N processes on the same ports (node:cluster), one per core; needs --redis.
                    A worker that dies is started again; Ctrl-C stops them all
  -h, --help        show this help

On start it prints "listening on http://HOST:PORT/" (https:// with TLS; the real port, also with
--port 0), then one line per service. Ctrl-C (SIGINT) or SIGTERM closes every WebSocket with 1001 and exits 0.`,
};

/** How long a clean shutdown may take before the remaining connections are cut. */
const SHUTDOWN_DEADLINE_MS = 8_000;
const PUBLIC_DIRECTORY = new URL('./public/', import.meta.url);

/** One application on the shared router, as the front page lists it. */
interface MountedService {
  name: string;
  /** HTML, written here (never from a request). */
  description: string;
  links: { href: string; label: string }[];
  close(): Promise<void>;
}

/** Something listening: the HTTP server (either stack) or BATCHAT. */
interface Listener {
  close(): Promise<void>;
}

function readFlags() {
  const { values } = parseFlags(program, {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'node-http': { type: 'boolean', default: false },
    'chat-port': { type: 'string' },
    'no-chat': { type: 'boolean', default: false },
    'allowed-origin': { type: 'string', multiple: true },
    ...TLS_FLAGS,
    redis: { type: 'string' },
    workers: { type: 'string' },
  });
  // An empty PORT is as good as none: `PORT= npm start` should not be an error.
  const portSource = values.port !== undefined ? '--port' : 'PORT';
  const port = portFlag(program, '--port', values.port) ?? portFlag(program, 'PORT', process.env.PORT || undefined) ?? 8000;
  if (values['no-chat']) refuseFlags(program, values, ['chat-port'], 'BATCHAT, which --no-chat turns off');
  const chatPort = values['no-chat'] ? undefined : (portFlag(program, '--chat-port', values['chat-port']) ?? 1337);
  // Else BATCHAT would take the port and HTTP would report it "in use" — by ourselves.
  if (chatPort === port && port !== 0) usageError(program, `${portSource} and --chat-port are both ${port}: HTTP and BATCHAT need a port each`);
  const redis = redisFlag(program, values.redis);
  const tls = tlsFlags(program, values['tls-cert'], values['tls-key']);
  const allowedOrigins = originFlags(program, '--allowed-origin', values['allowed-origin']);
  return { port, host: values.host, nodeHttp: values['node-http'], chatPort, tls, allowedOrigins, redis, workers: workersFlag(program, values.workers, redis) };
}

/** Serve a whole Router under a path prefix: "/hello/echo" reaches the sub-router as "/echo". */
function mountRouter(router: Router, prefix: string, subRouter: Router, methods: string[]): void {
  const forward = (request: RouteRequest) => subRouter.dispatch({ ...request, path: request.path.slice(prefix.length) || '/' });
  for (const method of methods) {
    router.route(method, prefix, forward);
    router.route(method, `${prefix}/*rest`, forward);
  }
}

/** Register every HTTP/WebSocket application on `router`; the list is what the front page shows. */
function mountServices(router: Router, shared: SharedMode | undefined): MountedService[] {
  const services: MountedService[] = [];

  const day19 = registerDay19(router, { sharing: shared?.day19 });
  services.push({
    name: 'Day 19: Christmas Sockets on the Chimney',
    description: 'Table tennis on <code>/19/ws/ping</code> and the bird app: rooms on <code>/19/ws/room/&lt;number&gt;/user/&lt;name&gt;</code>, views on <code>GET /19/views</code>, <code>POST /19/reset</code>.',
    links: [{ href: '/19/', label: 'bird app' }, { href: '/19/ping.html', label: 'table tennis' }, { href: '/19/views', label: 'view count' }],
    close: () => day19.close(),
  });

  const poparazzi = registerPoparazzi(router, { shared: shared?.poparazzi });
  services.push({
    name: 'Poparazzi event stream',
    description: 'A WebSocket on <code>/</code> (bearer token first), tokens from <code>POST /sessions</code>, counts on <code>GET /posts/&lt;uuid&gt;/views</code>.',
    links: [],
    close: () => poparazzi.close(),
  });

  const chitchat = registerChitchatStandin(router);
  services.push({
    name: 'WebSocket chit chat (hackattic stand-in)',
    description: '<code>GET /challenges/websocket_chit_chat/problem?access_token=…</code>, then the conversation on <code>/_/ws/&lt;token&gt;</code>, then <code>POST …/solve</code>. Solve it with <code>npm run chitchat</code>.',
    links: [],
    close: () => chitchat.close(),
  });

  const teams = registerTeamsStandin(router, { basePath: '/teams' });
  services.push({
    name: 'Team bot connections (Global/Team API stand-in)',
    description: 'The Global connection on <code>/teams/global</code> (each new connection after a finished run starts a fresh seeded scenario, faults on), team URLs under <code>/teams/team/…</code>, the verdicts on <code>GET /teams/summary</code>. Drive it with <code>npm run teams -- --url ws://&lt;this host&gt;/teams/global</code>.',
    links: [{ href: '/teams/summary', label: 'summary of the current run' }],
    close: () => teams.close(),
  });

  const wire = registerWireInspector(router);
  services.push({
    name: 'Wire inspector',
    description: 'Send a message from the page and see every frame as the server received and sent it, bit by bit (RFC 6455 §5.2).',
    links: [{ href: '/wire/', label: 'wire inspector' }],
    close: () => wire.close(),
  });

  mountRouter(router, '/hello', createHelloRouter(), ['GET', 'POST']);
  services.push({
    name: 'Hello World',
    description: 'A page that shows the request our HTTP parser just read; <code>/hello/echo</code> as plain text.',
    links: [{ href: '/hello', label: 'hello' }],
    close: async () => {},
  });

  return services;
}

function frontPage(services: MountedService[], stack: string, chatPort: number | undefined): string {
  const entries = services.map((service) => {
    const links = service.links.map((link) => `<li><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></li>`).join('');
    return `      <li><h2>${escapeHtml(service.name)}</h2><p>${service.description}</p>${links === '' ? '' : `<ul>${links}</ul>`}</li>`;
  });
  if (chatPort !== undefined) {
    entries.push(`      <li><h2>BATCHAT</h2><p>A telnet chat on its own TCP port: <code>telnet &lt;this host&gt; ${chatPort}</code>.</p></li>`);
  }
  const template = readFileSync(new URL('index.html.template', PUBLIC_DIRECTORY), 'utf8');
  return template.replace('{{services}}', entries.join('\n')).replace('{{stack}}', escapeHtml(stack));
}

async function main(): Promise<void> {
  const flags = readFlags();
  if (flags.workers > 1 && !isWorkerProcess()) return runWorkers(program, flags.workers, SHUTDOWN_DEADLINE_MS);
  const router = new Router({ webSocket: { allowedOrigins: flags.allowedOrigins } });
  const shared = flags.redis === undefined ? undefined : await startSharedMode(flags.redis);
  const services = mountServices(router, shared);
  const listeners: Listener[] = [];
  const stack = flags.nodeHttp ? 'node:http' : 'our raw HTTP/1.1 server';

  const stop = onShutdown(program, async (signal) => {
    console.log(`${signal}: closing every WebSocket with 1001, then the listeners`);
    // Stop accepting first (close() does), while the applications say goodbye on their sockets.
    const listenersClosed = Promise.all(listeners.map((listener) => listener.close()));
    await Promise.all(services.map((service) => service.close().catch((error: unknown) => console.error(`north-pole: closing ${service.name}: ${String(error)}`))));
    await listenersClosed;
    await shared?.close();
    console.log('closed');
  }, { forceAfterMs: SHUTDOWN_DEADLINE_MS, ignoreRepeatedSignals: isWorkerProcess() });
  followPrimary(stop);

  let chat: Awaited<ReturnType<typeof startBatchat>> | undefined;
  if (flags.chatPort !== undefined) {
    const chatAddress = { host: flags.host, port: flags.chatPort, what: 'BATCHAT', portAdvice: 'use --chat-port N or --no-chat' };
    const running = await listenOrExit(program, chatAddress, () => startBatchat({ port: flags.chatPort, host: flags.host, room: shared?.chat }));
    chat = running;
    listeners.push({ close: () => running.close() });
  }

  const page = html(frontPage(services, stack, chat?.port));
  router.get('/', () => page);
  serveStaticFiles(router, '/', fileURLToPath(PUBLIC_DIRECTORY));

  const httpAddress = { host: flags.host, port: flags.port, portAdvice: 'use --port N or PORT=N' };
  const http = await listenOrExit(program, httpAddress, () => listenRouter(router, flags.port, flags.host, flags.nodeHttp ? 'node' : 'raw', flags.tls));
  listeners.push(http);

  const base = `${flags.tls === undefined ? 'http' : 'https'}://${urlHost(flags.host)}:${http.port}`;
  console.log(`listening on ${base}/ (${stack})`);
  console.log(`  front page         ${base}/`);
  console.log(`  day 19 bird app    ${base}/19/   (ws ${base.replace('http', 'ws')}/19/ws/room/<number>/user/<name>)`);
  console.log(`  day 19 ping game   ${base.replace('http', 'ws')}/19/ws/ping`);
  console.log(`  poparazzi stream   ${base.replace('http', 'ws')}/   (POST ${base}/sessions)`);
  console.log(`  chit chat stand-in ${base}/challenges/websocket_chit_chat/problem?access_token=…`);
  console.log(`  hello world        ${base}/hello`);
  console.log(`  wire inspector     ${base}/wire/`);
  if (chat !== undefined) console.log(`  BATCHAT (telnet)   ${flags.host} port ${chat.port}`);
  console.log(`  WebSocket origins  ${flags.allowedOrigins?.join(' ') ?? 'any (restrict with --allowed-origin URL)'}`);
  if (shared !== undefined) console.log(`  shared through     ${shared.link.url} (node ${shared.link.nodeId})`);
  console.log('Ctrl-C to stop.');
}

try {
  await main();
} catch (error) {
  console.error(`north-pole: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
