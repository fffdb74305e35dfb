// Every server program, run as a user runs it (a child process), reports the same situation the same
// way: a port already taken or a host that does not resolve is one line naming the address and the
// reason, exit 1 (not the usage, not exit 2, never a stack trace); an IPv6 host is bracketed in the
// URLs of the banner; SIGTERM stops it. And the clients treat bad usage alike: a URL that is not one is
// exit 2 with the reason, an unknown flag too, never a stack trace; SIGTERM is 143 and SIGINT 130
// where a program reports being interrupted.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runProgram } from './helpers/program.ts';

interface ServerProgram {
  name: string;
  entry: string;
  /** Flags that make the program start quickly and alone (BATCHAT off in north-pole, say). */
  extra: string[];
  /** What the banner prints for `--host ::1` (PORT stands for the port the OS picked). */
  ipv6Banner: RegExp;
}

const PORT = String.raw`\d+`;
const SERVER_PROGRAMS: ServerProgram[] = [
  { name: 'echo', entry: 'servers/echo/main.ts', extra: [], ipv6Banner: new RegExp(String.raw`ws://\[::1\]:${PORT}/`) },
  { name: 'hello-http', entry: 'servers/hello-http/main.ts', extra: [], ipv6Banner: new RegExp(String.raw`http://\[::1\]:${PORT}/`) },
  { name: 'hello-http', entry: 'servers/hello-http/main.ts', extra: ['--stack', 'node'], ipv6Banner: new RegExp(String.raw`http://\[::1\]:${PORT}/`) },
  { name: 'batchat', entry: 'servers/batchat/main.ts', extra: [], ipv6Banner: new RegExp(String.raw`listening on \[::1\]:${PORT} \(try: telnet ::1 ${PORT}\)`) },
  { name: 'chitchat-standin', entry: 'servers/chitchat-standin/main.ts', extra: [], ipv6Banner: new RegExp(String.raw`http://\[::1\]:${PORT}`) },
  { name: 'teams-standin', entry: 'servers/teams-standin/main.ts', extra: ['--keep-running'], ipv6Banner: new RegExp(String.raw`ws://\[::1\]:${PORT}/global`) },
  { name: 'poparazzi', entry: 'servers/poparazzi/main.ts', extra: [], ipv6Banner: new RegExp(String.raw`ws://\[::1\]:${PORT}/`) },
  { name: 'north-pole', entry: 'servers/north-pole.ts', extra: ['--no-chat'], ipv6Banner: new RegExp(String.raw`listening on http://\[::1\]:${PORT}/`) },
];
const label = (program: ServerProgram): string => [program.entry, ...program.extra].join(' ');

/** Exactly one line on stderr, nothing that looks like a stack trace or the usage. */
function assertOneLine(stderr: string, expected: string): void {
  assert.equal(stderr, `${expected}\n`);
}

describe('a port already in use', () => {
  let occupied: Server;
  let port: number;
  before(async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    port = (occupied.address() as { port: number }).port;
  });
  after(() => occupied.close());

  for (const program of SERVER_PROGRAMS) {
    test(`${label(program)}: one line naming the address and the reason, exit 1`, async () => {
      const running = runProgram(program.entry, [...program.extra, '--host', '127.0.0.1', '--port', String(port)]);
      assert.equal(await running.exited, 1, running.stderr());
      const advice = program.name === 'north-pole' ? ' (use --port N or PORT=N)' : '';
      assertOneLine(running.stderr(), `${program.name}: cannot listen on 127.0.0.1:${port}: the port is already in use${advice}`);
    });
  }

  test('north-pole: BATCHAT on a port in use names BATCHAT and its flag', async () => {
    const running = runProgram('servers/north-pole.ts', ['--port', '0', '--chat-port', String(port)]);
    assert.equal(await running.exited, 1, running.stderr());
    assertOneLine(running.stderr(), `north-pole: cannot listen on 127.0.0.1:${port} (BATCHAT): the port is already in use (use --chat-port N or --no-chat)`);
  });
});

describe('a host that does not resolve', () => {
  for (const program of SERVER_PROGRAMS) {
    test(`${label(program)}: blames the host, not the port, exit 1`, async () => {
      const running = runProgram(program.entry, [...program.extra, '--host', 'nosuchhost.invalid', '--port', '0']);
      assert.equal(await running.exited, 1, running.stderr());
      assertOneLine(running.stderr(), `${program.name}: cannot listen on nosuchhost.invalid:0: no such host`);
    });
  }
});

describe('north-pole: the same port for HTTP and BATCHAT', () => {
  // A fixed number on purpose (the OS cannot pick the same port twice), and nothing listens on it: the refusal comes first.
  test('--port N --chat-port N is a usage error before anything listens (exit 2)', async () => {
    const running = runProgram('servers/north-pole.ts', ['--port', '45999', '--chat-port', '45999']);
    assert.equal(await running.exited, 2);
    assert.equal(running.stderr().split('\n')[0], 'north-pole: --port and --chat-port are both 45999: HTTP and BATCHAT need a port each');
  });

  test('PORT=N with --chat-port N as well', async () => {
    const running = runProgram('servers/north-pole.ts', ['--chat-port', '45999'], { env: { ...process.env, PORT: '45999' } });
    assert.equal(await running.exited, 2);
    assert.equal(running.stderr().split('\n')[0], 'north-pole: PORT and --chat-port are both 45999: HTTP and BATCHAT need a port each');
  });

  test('port 0 for both is fine: the OS picks two', async () => {
    const running = runProgram('servers/north-pole.ts', ['--port', '0', '--chat-port', '0']);
    await running.printed(/Ctrl-C to stop/);
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0, running.stderr());
  });
});

describe('an IPv6 host: URLs in the banner bracket it, SIGTERM stops the program', () => {
  for (const program of SERVER_PROGRAMS) {
    test(label(program), async () => {
      const running = runProgram(program.entry, [...program.extra, '--host', '::1', '--port', '0']);
      const banner = await running.printed(program.ipv6Banner);
      assert.doesNotMatch(banner, /[a-z]+:\/\/::1/);
      running.child.kill('SIGTERM');
      const status = await running.exited;
      // The teams stand-in reports an interrupted run as 128 + SIGTERM, as a shell would.
      assert.equal(status, program.name === 'teams-standin' ? 143 : 0, running.stderr());
    });
  }
});

describe('clients: a URL that is not one is bad usage (exit 2), in every client', () => {
  const cases: [string, string[], string][] = [
    ['clients/wscat/main.ts', ['notaurl'], 'wscat: URL must be a ws://, wss://, http:// or https:// URL, got "notaurl"'],
    ['clients/wscat/main.ts', ['ftp://example.com/'], 'wscat: URL must be a ws://, wss://, http:// or https:// URL, got "ftp://example.com/"'],
    ['clients/teams/main.ts', ['--url', 'ftp://nowhere'], 'teams: --url must be a ws://, wss://, http:// or https:// URL, got "ftp://nowhere"'],
    ['clients/poparazzi/main.ts', ['--url', 'nowhere'], 'poparazzi-client: --url must be a http://, https://, ws:// or wss:// URL, got "nowhere"'],
    ['clients/chitchat/main.ts', ['--base', 'ws://example.com', '--access-token', 'x'], 'chitchat: --base must be a http:// or https:// URL, got "ws://example.com"'],
  ];
  for (const [entry, args, message] of cases) {
    test(`${entry} ${args.join(' ')}`, async () => {
      const running = runProgram(entry, args);
      assert.equal(await running.exited, 2, running.stderr());
      assert.equal(running.stderr().split('\n')[0], message);
    });
  }
});

describe('every program refuses an unknown flag the same way', () => {
  for (const entry of ['clients/chitchat/success-rate-main.ts', 'clients/wscat/main.ts']) {
    test(`${entry} --bogus: one reason, the usage, exit 2, no stack trace`, async () => {
      const running = runProgram(entry, ['--bogus']);
      assert.equal(await running.exited, 2, running.stderr());
      assert.match(running.stderr(), /^[a-z-]+: Unknown option '--bogus'\n\nUsage: /);
      assert.doesNotMatch(running.stderr(), /\n {4}at /);
    });
  }

  test('success-rate-main: a number flag that is not a number is refused, not run as NaN', async () => {
    const running = runProgram('clients/chitchat/success-rate-main.ts', ['--time-scale', 'fast']);
    assert.equal(await running.exited, 2, running.stderr());
    assert.equal(running.stderr().split('\n')[0], 'success-rate: --time-scale must be a number, got "fast"');
  });
});

describe('chitchat: interrupted by a signal', () => {
  for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    test(`${signal} gives up and exits ${status}`, async () => {
      // A slow stand-in: the conversation is still going when the signal comes.
      const running = runProgram('clients/chitchat/main.ts', ['--time-scale', '10']);
      await running.printed(/attempt 1\/3: connecting/);
      running.child.kill(signal);
      assert.equal(await running.exited, status, running.stderr());
      assert.match(running.stdout(), new RegExp(`${signal}: giving up`));
    });
  }
});

describe('servers: a flag whose value would be changed or ignored is refused instead', () => {
  const cases: [string, string[], string][] = [
    // Was silently raised to 100 ms.
    ['servers/poparazzi/main.ts', ['--save-interval', '10'], 'poparazzi: --save-interval must be a whole number of at least 100, got "10"'],
    // 0 closed every stream before it could authenticate.
    ['servers/poparazzi/main.ts', ['--auth-timeout', '0'], 'poparazzi: --auth-timeout must be a positive whole number, got "0"'],
    // Was silently ignored.
    ['servers/north-pole.ts', ['--no-chat', '--chat-port', '1337'], 'north-pole: --chat-port is only for BATCHAT, which --no-chat turns off'],
  ];
  for (const [entry, args, message] of cases) {
    test(`${entry} ${args.join(' ')}`, async () => {
      const running = runProgram(entry, args);
      assert.equal(await running.exited, 2, running.stderr());
      assert.equal(running.stderr().split('\n')[0], message);
    });
  }
});
