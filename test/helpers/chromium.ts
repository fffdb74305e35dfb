// A headless Chromium driven over the DevTools protocol (CDP: JSON over a WebSocket) by our own
// WebSocket client — no browser-automation package. Just the few commands the browser tests need:
// open a page, navigate, evaluate, take a screenshot.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type WebSocketConnection } from '../../lib/websocket/index.ts';

/** Where Debian puts its chromium; CHROMIUM_PATH overrides. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => path !== undefined && existsSync(path));
}

export const CHROMIUM_MISSING = 'chromium is not installed: run `apt-get install -y chromium` (CI installs it) to run the browser tests';

interface PendingCommand {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One CDP connection: commands with ids, answers matched by id, events by method name. */
export class DevToolsSession {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCommand>();
  private readonly eventWaiters: Array<{ method: string; sessionId?: string; resolve(params: Record<string, unknown>): void }> = [];

  constructor(private readonly connection: WebSocketConnection) {
    connection.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
    connection.on('close', () => {
      for (const command of this.pending.values()) command.reject(new Error('DevTools connection closed'));
      this.pending.clear();
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (result) => { clearTimeout(timer); resolve(result); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      this.connection.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Resolve at the next event `method` (for the given page session), or reject after `timeoutMs`. */
  waitForEvent(method: string, sessionId?: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const waiter = { method, sessionId, resolve: (params: Record<string, unknown>) => { clearTimeout(timer); resolve(params); } };
      const timer = setTimeout(() => {
        this.eventWaiters.splice(this.eventWaiters.indexOf(waiter), 1);
        reject(new Error(`no ${method} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.push(waiter);
    });
  }

  close(): void {
    this.connection.close();
  }

  private onMessage(message: { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string }): void {
    if (message.id !== undefined) {
      const command = this.pending.get(message.id);
      if (!command) return;
      this.pending.delete(message.id);
      if (message.error) command.reject(new Error(`CDP error: ${message.error.message}`));
      else command.resolve(message.result ?? {});
      return;
    }
    for (let index = 0; index < this.eventWaiters.length; index++) {
      const waiter = this.eventWaiters[index];
      if (waiter.method === message.method && (waiter.sessionId === undefined || waiter.sessionId === message.sessionId)) {
        this.eventWaiters.splice(index, 1);
        waiter.resolve(message.params ?? {});
        return;
      }
    }
  }
}

/** A browser tab attached in "flat" mode: its commands carry its sessionId. */
export class Page {
  constructor(private readonly devtools: DevToolsSession, readonly sessionId: string) {}

  async navigate(url: string): Promise<void> {
    const loaded = this.devtools.waitForEvent('Page.loadEventFired', this.sessionId);
    const result = await this.devtools.send('Page.navigate', { url }, this.sessionId);
    if (typeof result.errorText === 'string') throw new Error(`navigation to ${url} failed: ${result.errorText}`);
    await loaded;
  }

  /** Evaluate an expression in the page (promises awaited) and return its value as JSON. */
  async evaluate<T = unknown>(expression: string, timeoutMs = 15_000): Promise<T> {
    const result = await this.devtools.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, this.sessionId, timeoutMs);
    const details = result.exceptionDetails as { exception?: { description?: string }; text?: string } | undefined;
    if (details) throw new Error(`page threw: ${details.exception?.description ?? details.text}`);
    return (result.result as { value: T }).value;
  }

  /** Poll an expression until it is truthy (the page updates on its own schedule), bounded by `timeoutMs`. */
  async waitUntil(expression: string, timeoutMs = 10_000): Promise<void> {
    await this.evaluate(
      `new Promise((resolve, reject) => {
        const deadline = Date.now() + ${timeoutMs};
        const check = () => { try { if (${expression}) return resolve(true); } catch {} if (Date.now() > deadline) return reject(new Error('timed out waiting for: ' + ${JSON.stringify(expression)})); setTimeout(check, 10); }; // not requestAnimationFrame: background tabs never paint
        check();
      })`,
      timeoutMs + 5_000,
    );
  }

  async screenshot(): Promise<Buffer> {
    const result = await this.devtools.send('Page.captureScreenshot', { format: 'png' }, this.sessionId);
    return Buffer.from(result.data as string, 'base64');
  }
}

export class Browser {
  private constructor(
    private readonly process: ChildProcess,
    private readonly profileDirectory: string,
    readonly devtools: DevToolsSession,
  ) {}

  /** Start headless Chromium on a fresh profile and connect to its DevTools WebSocket. */
  static async launch(executable: string, timeoutMs = 20_000): Promise<Browser> {
    const profileDirectory = mkdtempSync(join(tmpdir(), 'handrolled-chromium-'));
    const child = spawn(executable, [
      '--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0', `--user-data-dir=${profileDirectory}`,
      '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
      '--window-size=1000,800', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true }); // its own process group, so every helper process can be killed at once
    try {
      const url = await devToolsUrl(child, timeoutMs);
      const connection = await connect(url, { maxMessageBytes: 64 * 1024 * 1024 });
      return new Browser(child, profileDirectory, new DevToolsSession(connection));
    } catch (error) {
      killGroup(child);
      rmSync(profileDirectory, { recursive: true, force: true });
      throw error;
    }
  }

  async newPage(): Promise<Page> {
    const { targetId } = await this.devtools.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.devtools.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this.devtools, sessionId as string);
    await this.devtools.send('Page.enable', {}, sessionId as string);
    await this.devtools.send('Runtime.enable', {}, sessionId as string);
    return page;
  }

  /** Always kill the browser and remove its profile, whatever state it is in. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) resolve();
      else this.process.once('exit', () => resolve());
    });
    try { this.devtools.close(); } catch { /* the browser may already be gone */ }
    killGroup(this.process);
    await exited;
    rmSync(this.profileDirectory, { recursive: true, force: true });
  }
}

/** Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr. */
function devToolsUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      output = (output + text).slice(-10_000);
      const start = output.indexOf('DevTools listening on ');
      if (start === -1) return;
      const end = output.indexOf('\n', start);
      if (end === -1) return;
      clearTimeout(timer);
      resolve(output.slice(start + 'DevTools listening on '.length, end).trim());
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${code}) before printing its DevTools URL:\n${output}`));
    });
  });
}

/** Kill Chromium and its renderer, GPU and zygote processes (the whole process group). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is already gone, or was never made
  }
}

/**
 * The usual setup of a browser test against a node:http server: listen on a free loopback port, start
 * Chromium, open one page on the server's "/". `close` stops the browser, then the server.
 */
export async function browserOn(server: import('node:http').Server, executable: string): Promise<{ port: number; browser: Browser; page: Page; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const browser = await Browser.launch(executable);
  const page = await browser.newPage();
  await page.navigate(`http://127.0.0.1:${port}/`);
  return {
    port,
    browser,
    page,
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
