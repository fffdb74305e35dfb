// End-to-end tests for the BATCHAT server over real TCP on loopback (port 0): exact bytes
// of the welcome, greeting, chat and quit lines; hostile input; limits; shutdown; and one
// session driven through the real `telnet` client. Every wait is for bytes or an event.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { startBatchat } from '../servers/batchat/server.ts';
import type { BatchatOptions, BatchatServer } from '../servers/batchat/server.ts';

const WAIT_MS = 5000;

// Written out independently of servers/batchat/messages.ts, from the original challenge text.
const WELCOME =
  [
    '   ____      _       _____     ____   _   _      _       _____   ',
    'U | __")uU  /"\\  u  |_ " _| U /"___| |\'| |\'| U  /"\\  u  |_ " _|  ',
    ' \\|  _ \\/ \\/ _ \\/     | |   \\| | u  /| |_| |\\ \\/ _ \\/     | |    ',
    '  | |_) | / ___ \\    /| |\\   | |/__ U|  _  |u / ___ \\    /| |\\   ',
    '  |____/ /_/   \\_\\  u |_|U    \\____| |_| |_| /_/   \\_\\  u |_|U   ',
    ' _|| \\\\_  \\\\    >>  _// \\\\_  _// \\\\  //   \\\\  \\\\    >>  _// \\\\_  ',
    '(__) (__)(__)  (__)(__) (__)(__)(__)(_") ("_)(__)  (__)(__) (__)',
  ].join('\r\n') +
  '\r\n\r\nWelcome to BATCHAT local reviews and chat!\r\n\r\nPlease enter your name, and press enter: ';
const PROMPT = 'Please enter your name, and press enter: ';
const greeting = (name: string) => `Hey, ${name}! Hope you enjoy the chat.\r\n\r\n`;

/** A TCP client that records every byte and lets a test wait for exactly what it expects. */
class Client {
  readonly socket: net.Socket;
  #received = Buffer.alloc(0);
  #ended = false;
  #closed = false;
  #wakers = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {}); // a reset shows up as 'close'
  }

  static async connect(port: number): Promise<Client> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new Client(socket);
  }

  /** Connects, checks the welcome, logs in and checks the greeting. */
  static async join(port: number, name: string): Promise<Client> {
    const client = await Client.connect(port);
    await client.expect(WELCOME);
    client.send(`${name}\r\n`);
    await client.expect(greeting(name));
    return client;
  }

  send(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits until the next bytes received are exactly `expected`, and consumes them. */
  async expect(expected: string | Uint8Array): Promise<void> {
    const want = typeof expected === 'string' ? Buffer.from(expected, 'utf8') : Buffer.from(expected);
    await this.#until(() => this.#received.length >= want.length || this.#ended, `${want.length} bytes`);
    const got = this.#received.subarray(0, want.length);
    this.#received = this.#received.subarray(want.length);
    if (typeof expected === 'string') assert.equal(got.toString('utf8'), expected);
    else assert.deepEqual([...got], [...want]);
  }

  /** Waits for `text` anywhere ahead, consuming everything up to and including it. */
  async waitFor(text: string): Promise<string> {
    const needle = Buffer.from(text, 'utf8');
    await this.#until(() => this.#received.includes(needle) || this.#ended, JSON.stringify(text));
    const at = this.#received.indexOf(needle);
    assert.ok(at >= 0, `connection ended without ${JSON.stringify(text)}`);
    const consumed = this.#received.subarray(0, at + needle.length).toString('utf8');
    this.#received = this.#received.subarray(at + needle.length);
    return consumed;
  }

  /** Waits for the server to close the connection, with nothing unread left before that. */
  async expectEnd(): Promise<void> {
    await this.#until(() => this.#ended || this.#closed, 'the server to close the connection');
    assert.equal(this.#received.toString('utf8'), '', 'unexpected bytes before the end');
  }

  /** Proves nothing arrived uninvited: asks /who and requires its answer to be the very next bytes. */
  async expectNothingMoreThan(whoReply: string): Promise<void> {
    this.send('/who\r\n');
    await this.expect(whoReply);
  }

  async #until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.#received.toString('utf8'))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, left);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wakers.add(wake);
      });
    }
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}

const servers: BatchatServer[] = [];
const clients: Client[] = [];
after(async () => {
  for (const client of clients) client.socket.destroy();
  await Promise.all(servers.map((server) => server.close()));
});

async function start(options: BatchatOptions = {}): Promise<number> {
  const server = await startBatchat({ port: 0, host: '127.0.0.1', ...options });
  servers.push(server);
  return server.port;
}
async function join(port: number, name: string): Promise<Client> {
  const client = await Client.join(port, name);
  clients.push(client);
  return client;
}
async function connect(port: number): Promise<Client> {
  const client = await Client.connect(port);
  clients.push(client);
  return client;
}

describe('BATCHAT over TCP: the conversation', () => {
  test('welcome, greeting, chat to the others only, /quit announced: three users', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    const boss = await join(port, 'JStopfarm');

    mike.send('hey everyone!\r\n');
    await jonny.expect('<mike> hey everyone!\r\n');
    await boss.expect('<mike> hey everyone!\r\n');

    jonny.send('hi mike!\n'); // LF only, as nc sends it
    await mike.expect('<jonny> hi mike!\r\n');
    await boss.expect('<jonny> hi mike!\r\n');

    jonny.send('/quit\r\n');
    await jonny.expectEnd();
    await mike.expect('* jonny has quit the chat\r\n');
    await boss.expect('* jonny has quit the chat\r\n');

    boss.send('mike is that you?\r\n');
    await mike.expect('<JStopfarm> mike is that you?\r\n');

    // Nobody got an echo of their own lines or a join notice.
    await mike.expectNothingMoreThan('* 2 in the chat: mike, JStopfarm\r\n');
    await boss.expectNothingMoreThan('* 2 in the chat: mike, JStopfarm\r\n');
  });

  test('a dropped connection (socket.destroy) is announced like /quit', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    jonny.socket.destroy();
    await mike.expect('* jonny has quit the chat\r\n');
  });

  test('EOF, Ctrl-C (IAC IP and raw 0x03) and Ctrl-D end the session like /quit', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const endings: [string, string | Uint8Array][] = [
      ['eof', ''],
      ['iacip', Uint8Array.of(255, 244)],
      ['ctrlc', '\x03'],
      ['ctrld', '\x04'],
    ];
    for (const [name, bytes] of endings) {
      const user = await join(port, name);
      if (name === 'eof') user.socket.end();
      else user.send(bytes);
      await mike.expect(`* ${name} has quit the chat\r\n`);
      await user.expectEnd();
    }
  });

  test('/help and /who answer only the asker', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    mike.send('/help\r\n');
    const help = await mike.waitFor('/.\r\n');
    assert.match(help, /^\* Commands:\r\n/);
    assert.match(help, /\/quit/);
    mike.send('/WHO\r\n');
    await mike.expect('* 2 in the chat: mike, jonny\r\n');
    await jonny.expectNothingMoreThan('* 2 in the chat: mike, jonny\r\n');
  });

  test('whitespace-only and empty lines are not broadcast', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    mike.send('\r\n   \r\n\t\n\x1b[0m\r\nreal\r\n');
    await jonny.expect('<mike> real\r\n');
  });

  test('UTF-8 passes through, even split across TCP writes', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    const bytes = Buffer.from('crème brûlée 🦇\r\n', 'utf8');
    for (const byte of bytes) mike.send(Uint8Array.of(byte));
    await jonny.expect('<mike> crème brûlée 🦇\r\n');
  });

  test('names are trimmed; a non-ASCII name works', async () => {
    const port = await start();
    const client = await connect(port);
    await client.expect(WELCOME);
    client.send('  José  \n');
    await client.expect(greeting('José'));
  });

  test('/quit at the name prompt just closes, silently for the room', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const stranger = await connect(port);
    await stranger.expect(WELCOME);
    stranger.send('/quit\r\n');
    await stranger.expectEnd();
    await mike.expectNothingMoreThan('* 1 in the chat: mike\r\n');
  });
});

describe('BATCHAT over TCP: hostile input', () => {
  test('telnet negotiation bytes are never shown; DO/WILL are refused with WONT/DONT', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    // IAC DO ECHO, IAC WILL NAWS, IAC SB NAWS 0 80 0 24 IAC SE, IAC WONT, IAC NOP, IAC IAC.
    mike.send(Buffer.concat([
      Buffer.from('he'),
      Buffer.from([255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240]),
      Buffer.from('l'),
      Buffer.from([255, 252, 3, 255, 241]),
      Buffer.from('lo\r\n'),
    ]));
    await jonny.expect('<mike> hello\r\n');
    await mike.expect(Uint8Array.of(255, 252, 1, 255, 254, 31)); // IAC WONT ECHO, IAC DONT NAWS
    mike.send(Buffer.from([0x61, 255, 255, 0x62, 0x0d, 0x0a]));
    await jonny.expect('<mike> a\ufffdb\r\n'); // IAC IAC: a literal 0xFF, not valid UTF-8
  });

  test('ANSI escape sequences are stripped before anyone sees them', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    mike.send('\x1b[2J\x1b[Hhi \x1b[1;31mthere\x1b[0m\x1b]0;pwned\x07!\x1bc\u009b2J\r\n');
    await jonny.expect('<mike> hi there!\r\n');
  });

  test('control characters (C0, DEL, C1) are stripped', async () => {
    const port = await start();
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    mike.send('b\x07e\x08l\x7fl\u0085s\x00\x0b\x0c\r\n');
    await jonny.expect('<mike> bells\r\n');
  });

  test('a line over the limit is cut, the sender is told, the buffer stays bounded', async () => {
    const port = await start({ maxLineBytes: 1024 });
    const mike = await join(port, 'mike');
    const jonny = await join(port, 'jonny');
    mike.send('x'.repeat(1024) + 'y'.repeat(200_000) + '\r\nshort\r\n');
    await jonny.expect(`<mike> ${'x'.repeat(1024)}\r\n`);
    await mike.expect('* Your line was longer than 1024 bytes; only the first 1024 were sent.\r\n');
    await jonny.expect('<mike> short\r\n');
  });

  test('empty, too long, control-character and duplicate names are refused with the prompt again', async () => {
    const port = await start();
    await join(port, 'Mike');
    const client = await connect(port);
    await client.expect(WELCOME);
    client.send('   \r\n');
    await client.expect('Your name cannot be empty.\r\n' + PROMPT);
    client.send('a'.repeat(33) + '\r\n');
    await client.expect('Your name can be at most 32 characters.\r\n' + PROMPT);
    client.send('\x1b[31mred\r\n');
    await client.expect('Your name cannot contain control characters or escape sequences.\r\n' + PROMPT);
    client.send('mIKE\r\n');
    await client.expect('The name mIKE is taken, please pick another.\r\n' + PROMPT);
    client.send('a'.repeat(32) + '\r\n');
    await client.expect(greeting('a'.repeat(32)));
  });
});

describe('BATCHAT over TCP: limits and shutdown', () => {
  test('a connection over --max-users is told and closed', async () => {
    const port = await start({ maxUsers: 2 });
    await join(port, 'one');
    const waiting = await connect(port); // still at the name prompt: counts too
    await waiting.expect(WELCOME);
    const third = await connect(port);
    await third.expect('Sorry, BATCHAT is full (2 users). Please try again later.\r\n');
    await third.expectEnd();
  });

  test('a user who stops reading is disconnected once the output cap is passed', async () => {
    const port = await start({ maxOutputBytes: 16 * 1024 });
    const mike = await join(port, 'mike');
    const sleepy = await join(port, 'sleepy');
    sleepy.socket.pause(); // stops reading; the kernel buffers fill, then Node's
    const notice = '* sleepy has quit the chat (disconnected: not reading fast enough)\r\n';
    const line = 'z'.repeat(1000) + '\r\n';
    let announced = false;
    const waiting = mike.expect(notice).then(() => (announced = true));
    // Talk until the server gives up on sleepy; bounded by a byte budget, not by time.
    for (let sent = 0; !announced && sent < 256 * 1024 * 1024; sent += 64 * line.length) {
      if (!mike.socket.write(line.repeat(64))) await once(mike.socket, 'drain');
    }
    await waiting;
    await mike.expectNothingMoreThan('* 1 in the chat: mike\r\n');
  });

  test('a user who never gives a name is told and disconnected', async () => {
    const port = await start({ nameTimeoutMs: 100 });
    const client = await connect(port);
    await client.expect(WELCOME);
    await client.expect('\r\nNo name after 0.1 seconds. Bye!\r\n');
    await client.expectEnd();
  });

  test('close() tells everyone, named or not, and closes their connections', async () => {
    const server = await startBatchat({ port: 0, host: '127.0.0.1' });
    const mike = await Client.join(server.port, 'mike');
    const jonny = await Client.join(server.port, 'jonny');
    const stranger = await Client.connect(server.port);
    await stranger.expect(WELCOME);
    await server.close();
    await stranger.expect('\r\n* BATCHAT is shutting down. Goodbye!\r\n');
    await stranger.expectEnd();
    for (const client of [mike, jonny]) {
      await client.expect('* BATCHAT is shutting down. Goodbye!\r\n');
      await client.expectEnd();
    }
  });
});

const hasTelnet = spawnSync('sh', ['-c', 'command -v telnet']).status === 0;

describe('BATCHAT with the real telnet client', () => {
  test(
    'telnet logs in, chats with a TCP user and /quit closes it',
    { skip: hasTelnet ? false : 'telnet is not installed: apt-get install telnet (CI installs it)' },
    async () => {
      const port = await start();
      const jonny = await join(port, 'jonny');

      const telnet = spawn('telnet', ['127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const exited = once(telnet, 'exit');
      let output = '';
      const wakers = new Set<() => void>();
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        for (const wake of wakers) wake();
      };
      telnet.stdout.on('data', collect);
      telnet.stderr.on('data', collect);
      const waitForOutput = async (text: string) => {
        const deadline = Date.now() + WAIT_MS;
        while (!output.includes(text)) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`telnet never printed ${JSON.stringify(text)}; it printed ${JSON.stringify(output)}`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(wake, left);
            function wake(): void {
              clearTimeout(timer);
              wakers.delete(wake);
              resolve();
            }
            wakers.add(wake);
          });
        }
      };

      try {
        await waitForOutput(PROMPT);
        telnet.stdin.write('mike\n');
        await waitForOutput('Hey, mike! Hope you enjoy the chat.');
        telnet.stdin.write('hey everyone!\n');
        await jonny.expect('<mike> hey everyone!\r\n');
        jonny.send('hi mike!\r\n');
        await waitForOutput('<jonny> hi mike!');
        telnet.stdin.write('/quit\n');
        await jonny.expect('* mike has quit the chat\r\n');
        const [code] = await exited;
        await waitForOutput('Connection closed by foreign host.');
        assert.equal(code, 0);
        assert.ok(output.includes(WELCOME.replaceAll('\r\n', '\n')), `banner garbled: ${JSON.stringify(output)}`);
        assert.ok(!output.includes('\ufffd') && !output.includes('\xff'), 'negotiation bytes leaked');
      } finally {
        telnet.kill();
      }
    },
  );
});

describe('startBatchat options', () => {
  test('nonsensical limits are rejected at start, not at the first connection', async () => {
    await assert.rejects(startBatchat({ port: 0, maxLineBytes: 0 }), /maxLineBytes must be an integer >= 1/);
    await assert.rejects(startBatchat({ port: 0, maxUsers: 1.5 }), /maxUsers/);
  });

  test('a port already in use is an error the caller can catch', async () => {
    const port = await start();
    await assert.rejects(startBatchat({ port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
  });
});
