// lib/cli.ts as the programs use it: a tiny program run as a child process (flags, --help, usage errors
// with exit 2, number flags) and its shutdown on SIGINT/SIGTERM (close then exit, a second signal
// exits at once, a failing close exits 1, a stuck close is cut by the force timer).

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';

const CLI_MODULE = new URL('../lib/cli.ts', import.meta.url).href;
const WAIT_MS = 20_000; // tsx compiles the module on first start

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Run `body` as an ES module that has lib/cli.ts's exports and `program` ({ name: 'demo', usage: 'Usage: demo …' }) in scope. */
function run(body: string, args: string[] = []): Run {
  const source = `import * as cli from ${JSON.stringify(CLI_MODULE)};
const program = { name: 'demo', usage: 'Usage: demo [--port N] [--count N] [--scale X]\\n' };
${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the program did not exit within ${WAIT_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, WAIT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Resolve once the program has printed `line` on stdout; reject if it exits first or takes too long. */
function printed(running: Run, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${line}" within ${WAIT_MS} ms`)), WAIT_MS);
    const check = (): void => {
      if (!running.output().stdout.includes(line)) return;
      clearTimeout(timer);
      running.child.stdout!.off('data', check);
      resolve();
    };
    running.child.stdout!.on('data', check);
    void running.exited.then(() => {
      clearTimeout(timer);
      if (running.output().stdout.includes(line)) resolve();
      else reject(new Error(`exited before printing "${line}": ${JSON.stringify(running.output())}`));
    });
    check();
  });
}

const FLAGS_PROGRAM = `
const { values } = cli.parseFlags(program, { port: { type: 'string' }, count: { type: 'string' }, scale: { type: 'string' } });
const port = cli.portFlag(program, '--port', values.port) ?? 8000;
const count = cli.wholeNumberFlag(program, '--count', values.count, 1, 10) ?? 1;
const scale = cli.positiveNumberFlag(program, '--scale', values.scale) ?? 1;
console.log(JSON.stringify({ port, count, scale }));`;

describe('flags', () => {
  test('values come back parsed, with the defaults for flags not given', async () => {
    const given = run(FLAGS_PROGRAM, ['--port', '0', '--count', '10', '--scale', '0.5']);
    assert.equal(await given.exited, 0, given.output().stderr);
    assert.deepEqual(JSON.parse(given.output().stdout), { port: 0, count: 10, scale: 0.5 });
    const defaults = run(FLAGS_PROGRAM);
    assert.equal(await defaults.exited, 0, defaults.output().stderr);
    assert.deepEqual(JSON.parse(defaults.output().stdout), { port: 8000, count: 1, scale: 1 });
  });

  test('-h and --help print the usage on stdout and exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const help = run(FLAGS_PROGRAM, [flag]);
      assert.equal(await help.exited, 0);
      assert.equal(help.output().stdout, 'Usage: demo [--port N] [--count N] [--scale X]\n');
      assert.equal(help.output().stderr, '');
    }
  });

  test('an unknown flag or a stray argument: the reason and the usage on stderr, exit 2', async () => {
    const unknown = run(FLAGS_PROGRAM, ['--bogus']);
    assert.equal(await unknown.exited, 2);
    assert.match(unknown.output().stderr, /^demo: Unknown option '--bogus'\n\nUsage: demo/);
    const stray = run(FLAGS_PROGRAM, ['stray']);
    assert.equal(await stray.exited, 2);
    assert.match(stray.output().stderr, /^demo: Unexpected argument 'stray'/);
  });

  const refusals: [string[], string][] = [
    [['--port', '65536'], '--port must be a port number from 0 to 65535, got "65536"'],
    [['--port', '1e3'], '--port must be a port number from 0 to 65535, got "1e3"'],
    [['--count', '0'], '--count must be a whole number from 1 to 10, got "0"'],
    [['--count=-1'], '--count must be a whole number from 1 to 10, got "-1"'],
    [['--count', '2.5'], '--count must be a whole number from 1 to 10, got "2.5"'],
    [['--scale', '0'], '--scale must be a positive number, got "0"'],
    [['--scale', 'fast'], '--scale must be a number, got "fast"'],
    [['--scale', ''], '--scale must be a number, got ""'],
  ];
  for (const [args, message] of refusals) {
    test(`${args.join(' ')} is refused: "${message}", exit 2`, async () => {
      const refused = run(FLAGS_PROGRAM, args);
      assert.equal(await refused.exited, 2);
      assert.equal(refused.output().stderr.split('\n')[0], `demo: ${message}`);
      assert.equal(refused.output().stdout, '');
    });
  }
});

describe('onShutdown', () => {
  const program = (close: string, options = '{}') => `
cli.onShutdown(program, async (signal) => {
  console.log('closing on ' + signal);
  ${close}
}, ${options});
setInterval(() => {}, 1000); // something that keeps the process alive, like a listening server
console.log('ready');`;

  test('the first SIGTERM runs close, then the process exits 0', async () => {
    const running = run(program(`console.log('closed');`));
    await printed(running, 'ready');
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0);
    assert.match(running.output().stdout, /closing on SIGTERM\nclosed\n/);
  });

  test('exitCode chooses the status after a signal (130 for SIGINT here)', async () => {
    const running = run(program('', `{ exitCode: (signal) => (signal === 'SIGINT' ? 130 : 143) }`));
    await printed(running, 'ready');
    running.child.kill('SIGINT');
    assert.equal(await running.exited, 130);
  });

  test('a second signal while close is still running exits 1 at once', async () => {
    const running = run(program('await new Promise(() => {});'));
    await printed(running, 'ready');
    running.child.kill('SIGINT');
    await printed(running, 'closing on SIGINT');
    running.child.kill('SIGINT');
    assert.equal(await running.exited, 1);
    assert.match(running.output().stderr, /demo: SIGINT again, exiting at once/);
  });

  test('a close that fails exits 1 and says why', async () => {
    const running = run(program(`throw new Error('disk full');`));
    await printed(running, 'ready');
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 1);
    assert.match(running.output().stderr, /demo: shutdown failed: disk full/);
  });

  test('forceAfterMs exits even when close never finishes', async () => {
    const running = run(program('await new Promise(() => {});', '{ forceAfterMs: 50 }'));
    await printed(running, 'ready');
    running.child.kill('SIGTERM');
    assert.equal(await running.exited, 0);
    assert.match(running.output().stderr, /demo: still closing after 50 ms/);
  });
});

describe('printable', () => {
  test('a peer\'s text is kept as it came except for what a terminal would obey', async () => {
    const { printable } = await import('../lib/cli.ts');
    assert.equal(printable('héllo\t"quoted" \\ 😀'), 'héllo\t"quoted" \\ 😀');
    assert.equal(printable('\x1b[31mred\r\n\x00\x7f'), '␛[31mred␍␊␀␡');
    assert.equal(printable('a\u009bb\u202ec'), 'a<U+009B>b<U+202E>c');
  });
});
