// A real redis-server for tests: started on a port the OS picked, bound to loopback, persistence off,
// in a temporary directory; ready when it answers PING (not after a sleep); killed, stopped and
// restarted on the same port for the fault tests. Tests skip with `redisMissing` as the reason when
// redis-server is not installed (.ci/run installs the Debian package).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why Redis tests cannot run here, or undefined when they can: pass it as `{ skip: redisMissing }`. */
export const redisMissing: string | undefined =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error === undefined ? undefined : 'redis-server is not installed (Debian package redis-server)';

export interface RedisServerOptions {
  /** `--requirepass`: the default user's password. */
  password?: string;
  /** Serve TLS only (rediss://), with a self-signed certificate for 127.0.0.1 made by openssl; its PEM is `ca`. */
  tls?: boolean;
  /** Any further `redis-server` arguments, e.g. ['--user', 'alice', 'on', '>secret', '~*', '&*', '+@all']. */
  args?: string[];
}

export interface RedisServer {
  /** redis://127.0.0.1:PORT, or rediss:// with the tls option (no password in it: add one yourself). */
  url: string;
  /** With the tls option: the server's self-signed certificate, to trust as `tls: { ca }`. */
  ca: Buffer | undefined;
  port: number;
  /** The process id of the running redis-server (it changes on restart()). */
  readonly pid: number;
  /** Shut down cleanly (SIGTERM) and remove the directory; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: clients see the connection drop. The directory stays for restart(). */
  kill(): Promise<void>;
  /** Start again on the same port and directory (after kill()); resolves once it answers. */
  restart(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/** Every redis-server still running: killed when the test process exits, even after a failed test. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const server of running) server.kill('SIGKILL');
});

/** A port the OS considers free right now (listen on 0, read it, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a fresh connection: true when the server answers (+PONG, or -NOAUTH when it wants a password). */
function answersPing(port: number, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = ca ? tls.connect({ host: '127.0.0.1', port, ca }) : net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(ca ? 'secureConnect' : 'connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG') || answer.startsWith('-NOAUTH'));
    });
  });
}

/** A key and a self-signed certificate for 127.0.0.1 in `directory`; returns the certificate's PEM. */
function selfSignedCertificate(directory: string): Buffer {
  const result = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem'),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`openssl could not make a certificate: ${result.error?.message ?? result.stderr.toString()}`);
  return readFileSync(join(directory, 'cert.pem'));
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (redisMissing) throw new Error(redisMissing);
  const directory = mkdtempSync(join(tmpdir(), 'redis-test-'));
  const ca = options.tls ? selfSignedCertificate(directory) : undefined;
  const listen = (port: number): string[] => ca
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', join(directory, 'cert.pem'), '--tls-key-file', join(directory, 'key.pem'),
      '--tls-ca-cert-file', join(directory, 'cert.pem'), '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = (port: number): string[] => [
    ...listen(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory,
    '--daemonize', 'no', '--loglevel', 'warning', '--enable-debug-command', 'local',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const server = spawn('redis-server', args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = server;
    running.add(server);
    let stderr = '';
    server.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let exited = false;
    server.once('exit', () => {
      exited = true;
      running.delete(server);
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    // Poll by connecting: each failed attempt is a refused connection, which comes back at once.
    while (!(await answersPing(port, ca))) {
      if (exited) throw new Error(`redis-server exited on start (port ${port}): ${stderr.trim() || 'no output'}`);
      if (Date.now() > deadline) {
        server.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const server = child;
    child = undefined;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill(signal);
    await exited;
  };

  // Another process may take the free port between our check and redis-server's bind: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      await terminate('SIGKILL');
      if (attempt === 3) {
        rmSync(directory, { recursive: true, force: true });
        throw error;
      }
    }
  }

  return {
    url: `${ca ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    ca,
    get pid() {
      return child?.pid ?? 0;
    },
    async stop() {
      await terminate('SIGTERM');
      rmSync(directory, { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL'),
    async restart() {
      await terminate('SIGKILL');
      await launch();
    },
  };
}
