// `npm start -- --redis URL`: the shared mode of the all-in-one server. One RedisLink per process, and
// the shared form of each service on it (day 19's rooms and views, BATCHAT's chat, Poparazzi's sessions
// and view ledger). Without --redis none of it runs (no connection, no timer): one process, nothing to install.

import { usageError, type Program } from '../lib/cli.ts';
import { parseRedisUrl } from '../lib/redis/index.ts';
import { SharedChatRoom } from './batchat/shared-room.ts';
import { RedisDay19Sharing } from './cch19/shared-redis.ts';
import { RedisSessions, RedisViewCounter } from './poparazzi/shared-redis.ts';
import { RedisLink } from './shared/redis-link.ts';

/** How long start-up waits for Redis before serving alone (and reconnecting in the background). */
const FIRST_CONNECT_WAIT_MS = 5_000;

export interface SharedMode {
  readonly link: RedisLink;
  readonly day19: RedisDay19Sharing;
  readonly chat: SharedChatRoom;
  readonly poparazzi: { sessions: RedisSessions; views: RedisViewCounter };
  close(): Promise<void>;
}

export async function startSharedMode(url: string, log: (line: string) => void = console.error): Promise<SharedMode> {
  const link = new RedisLink(url, { log, name: `handrolled-${process.pid}` });
  if (!(await link.whenReady(FIRST_CONNECT_WAIT_MS))) {
    log(`redis: ${link.url} did not answer within ${FIRST_CONNECT_WAIT_MS} ms; serving this process alone until it does`);
  }
  const day19 = await RedisDay19Sharing.create(link);
  const chat = await SharedChatRoom.create(link, log);
  return {
    link,
    day19,
    chat,
    poparazzi: { sessions: new RedisSessions(link), views: new RedisViewCounter(link) },
    close: () => {
      chat.close();
      return link.close();
    },
  };
}

/** `--redis URL`, else REDIS_URL (an empty one counts as unset); a URL that is not redis:// or rediss:// is a usage error. */
export function redisFlag(program: Program, value: string | undefined): string | undefined {
  const url = value ?? (process.env.REDIS_URL || undefined);
  if (url === undefined) return undefined;
  try {
    parseRedisUrl(url);
  } catch (error) {
    usageError(program, `${value === undefined ? 'REDIS_URL' : '--redis'}: ${(error as Error).message}`);
  }
  return url;
}
