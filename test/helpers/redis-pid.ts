// The process id of the redis-server behind a URL, from INFO: for tests that freeze it (SIGSTOP) and the
// bench that reads its CPU time.

import { createRedisClient } from '../../lib/redis/index.ts';

export async function redisServerPid(url: string): Promise<number> {
  const client = createRedisClient(url);
  try {
    const pid = Number(/process_id:(\d+)/.exec(String(await client.send(['INFO', 'server'])))?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no process_id in INFO of ${url}`);
    return pid;
  } finally {
    await client.quit();
  }
}
