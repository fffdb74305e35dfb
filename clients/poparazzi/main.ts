// `npm run poparazzi-client -- --url http://127.0.0.1:8000`: a demo client for the Poparazzi stream.
// Gets a session, authenticates, sends a state, reports views and prints every message both ways.

import { parseFlags, urlFlag, usageError, wholeNumberFlag, type Program } from '../../lib/cli.ts';
import { runPoparazziClient } from './client.ts';

const program: Program = {
  name: 'poparazzi-client',
  usage: `Usage: npm run poparazzi-client -- --url http://127.0.0.1:8000 [options]

Talks to a Poparazzi stream: POST /sessions, then on the WebSocket: authorization,
state, view_counts. Prints what it sends (→) and what comes back (←).

Options:
  --url URL            the server (http://, https://, ws:// or wss://; default http://127.0.0.1:8000)
  --path PATH          where the stream is (default /)
  --token TOKEN        authenticate with this token instead of getting a session
  --user UUID          ask POST /sessions for this user id
  --group ID           active_group_id to send in the state (default null)
  --typing             send is_typing true (default null, which the server echoes as false)
  --view UUID=COUNT    report a view (repeatable; default: three random posts)
  --timeout MS         give up after this long (default 10000)
  -h, --help           show this help

Exits 0 when every answer was as expected, 1 otherwise.`,
};

const { values } = parseFlags(program, {
  url: { type: 'string', default: 'http://127.0.0.1:8000' },
  path: { type: 'string', default: '/' },
  token: { type: 'string' },
  user: { type: 'string' },
  group: { type: 'string' },
  typing: { type: 'boolean', default: false },
  view: { type: 'string', multiple: true },
  timeout: { type: 'string' },
});

function parseViews(specs: string[] | undefined): Record<string, number> | undefined {
  if (specs === undefined) return undefined;
  const views: Record<string, number> = Object.create(null);
  for (const spec of specs) {
    const separator = spec.lastIndexOf('=');
    const count = Number(spec.slice(separator + 1));
    if (separator <= 0) usageError(program, `--view wants UUID=COUNT, got ${JSON.stringify(spec)}`);
    // The count goes to the server as given, so the server's own validation can be demonstrated.
    views[spec.slice(0, separator)] = count;
  }
  return views;
}

const timeoutMs = wholeNumberFlag(program, '--timeout', values.timeout, 1) ?? 10_000;
urlFlag(program, '--url', values.url, ['http:', 'https:', 'ws:', 'wss:']);

try {
  const result = await runPoparazziClient({
    url: values.url,
    streamPath: values.path,
    token: values.token,
    userId: values.user,
    state: { active_group_id: values.group ?? null, is_typing: values.typing ? true : null },
    viewCounts: parseViews(values.view),
    timeoutMs,
    report: (line) => console.log(line),
  });
  if (!result.ok) console.error(`poparazzi-client: ${result.failure}`);
  process.exitCode = result.ok ? 0 : 1;
} catch (error) {
  console.error(`poparazzi-client: ${(error as Error).message}`);
  process.exitCode = 1;
}
