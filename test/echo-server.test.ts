// servers/echo: `npm run echo` serves on our raw HTTP/1.1 server by default and on node:http with
// --node-http; either way every path echoes text as text and binary as binary (RFC 6455 §5.6), and a
// plain GET is told to upgrade (426).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { connect } from '../lib/websocket/index.ts';
import { startEchoServer } from '../servers/echo/server.ts';

async function echoOnce(port: number, path: string): Promise<void> {
  const connection = await connect(`ws://127.0.0.1:${port}${path}`);
  const replies: Array<[string, boolean]> = [];
  const done = new Promise<void>((resolve) => {
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      replies.push([data.toString('utf8'), isBinary]);
      if (replies.length === 2) resolve();
    });
  });
  connection.send('héllo');
  connection.send(Buffer.from('bytes'), { binary: true });
  await done;
  assert.deepEqual(replies, [['héllo', false], ['bytes', true]]);
  connection.close(1000);
  await once(connection, 'close');
}

describe('echo server', () => {
  for (const stack of ['raw', 'node'] as const) {
    test(`on the ${stack} stack: any path echoes text and binary; a plain GET gets 426`, async () => {
      const server = await startEchoServer({ stack });
      try {
        await echoOnce(server.port, '/');
        await echoOnce(server.port, '/some/deep/path?x=1');
        const response = await fetch(`http://127.0.0.1:${server.port}/`);
        assert.equal(response.status, 426);
        await response.arrayBuffer();
      } finally {
        await server.close();
      }
    });
  }

  for (const [flags, expected] of [[[], 'our raw HTTP/1.1 server'], [['--node-http'], 'node:http']] as const) {
    test(`npm run echo ${flags.join(' ') || '(no flag)'} runs on ${expected} and echoes`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'servers/echo/main.ts', '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
        assert.ok(line.includes(`(${expected})`), line);
        const port = Number(/:(\d+)\//.exec(line)![1]);
        await echoOnce(port, '/');
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });
  }
});
