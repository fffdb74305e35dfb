// A Router served in a process of its own, for tests that measure the server's memory without the test's own
// allocations in the way. Run with --expose-gc; argv[2] is the stack ("raw" or "node"). Prints its port on stdout.
// POST /length answers the body's length; GET /peak answers the highest heap + ArrayBuffer bytes seen above
// the baseline taken at start (sampled every few ms, so a body held for longer than that cannot hide).
import { Router } from '../../lib/http/router.ts';
import { json, text } from '../../lib/http/responses.ts';
import { listenRouter, type HttpStack } from '../../lib/http/listen.ts';

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

function heldBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

collect();
const baseline = heldBytes();
let peak = baseline;
setInterval(() => { peak = Math.max(peak, heldBytes()); }, 2).unref();

const router = new Router()
  .post('/length', (request) => text(String(request.body.length)))
  .get('/peak', () => json({ growthBytes: peak - baseline }));
const server = await listenRouter(router, 0, '127.0.0.1', process.argv[2] as HttpStack);
process.stdout.write(`${server.port}\n`);
process.on('SIGTERM', () => process.exit(0));
