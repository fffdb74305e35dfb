// BATCHAT shared through Redis: one chat across processes.
//
// Lines: every line said on a process goes to its own members at once, and is published on one channel
// as "<node id><line>"; the other processes hand it to their members (their own messages they skip).
// Names: claimed atomically in a Lua script (a key per name holding the node that owns it), so two
// processes never both accept "Mike" — nor "mike", the key is the same nameKey the local room uses.
// Presence: each node keeps a hash of its users (name key → "<joined at ms> <name>") and the claims of its
// names with a TTL it refreshes every PRESENCE_REFRESH_MS. A process that dies stops refreshing: within
// PRESENCE_TTL_MS its users are gone from /who everywhere and their names are free again.
// During an outage each process is its own chat (names unique within it); on reconnect it claims its
// users' names again, and a name meanwhile taken elsewhere is logged and left to both users.

import { KEY_PREFIX, NODE_ID_LENGTH, type RedisLink } from '../shared/redis-link.ts';
import { nameKey } from './names.ts';
import { ChatRoom, type Member, type Room } from './room.ts';

const LINES_CHANNEL = `${KEY_PREFIX}chat:lines`;
const NODES_KEY = `${KEY_PREFIX}chat:nodes`;
const NAME_KEY_PREFIX = `${KEY_PREFIX}chat:name:`;
const NODE_KEY_PREFIX = `${KEY_PREFIX}chat:node:`;

/** A dead process's users linger in /who at most this long (the issue allows 10 s). */
export const PRESENCE_TTL_MS = 6_000;
/** Three refreshes per TTL: a process busy for one or two of them does not lose its users. */
export const PRESENCE_REFRESH_MS = 2_000;

// KEYS: name claim, node hash, nodes set. ARGV: node id, name key, entry, ttl.
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
return 1`;

// KEYS: name claim, node hash. ARGV: node id, name key.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1`;

// KEYS: node hash. ARGV: ttl, name claim prefix. 0 when the hash is gone (Redis restarted, or we were away too long).
const REFRESH = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('PEXPIRE', ARGV[2] .. name, ARGV[1]) end
return 1`;

// KEYS: nodes set. ARGV: node hash prefix. Every live node's entries; nodes whose hash expired are dropped.
const WHO = `
local entries = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local values = redis.call('HVALS', ARGV[1] .. node)
  if #values == 0 then redis.call('SREM', KEYS[1], node) end
  for _, value in ipairs(values) do entries[#entries + 1] = value end
end
return entries`;

export class SharedChatRoom implements Room {
  readonly #link: RedisLink;
  readonly #local = new ChatRoom();
  /** When each local member joined: the order /who lists everyone in. */
  readonly #joinedAt = new Map<Member, number>();
  /** Name keys being claimed right now, so two local users racing for one name cannot both win. */
  readonly #claiming = new Set<string>();
  readonly #claim;
  readonly #release;
  readonly #refresh;
  readonly #who;
  readonly #nodeKey: string;
  readonly #timer: NodeJS.Timeout;
  readonly #log: (line: string) => void;

  private constructor(link: RedisLink, log: (line: string) => void) {
    this.#link = link;
    this.#log = log;
    this.#claim = link.script(CLAIM);
    this.#release = link.script(RELEASE);
    this.#refresh = link.script(REFRESH);
    this.#who = link.script(WHO);
    this.#nodeKey = NODE_KEY_PREFIX + link.nodeId;
    this.#timer = setInterval(() => void this.#keepAlive(), PRESENCE_REFRESH_MS);
    this.#timer.unref();
  }

  static async create(link: RedisLink, log: (line: string) => void): Promise<SharedChatRoom> {
    const room = new SharedChatRoom(link, log);
    link.onReady(() => void room.#claimAllAgain());
    const subscribed = link.subscribe(LINES_CHANNEL, (payload) => room.#relayed(payload));
    if (link.isReady) await subscribed;
    else subscribed.catch(() => {});
    return room;
  }

  get size(): number {
    return this.#local.size;
  }

  join(member: Member): boolean | Promise<boolean> {
    const key = nameKey(member.name);
    if (this.#local.isTaken(member.name) || this.#claiming.has(key)) return false;
    if (!this.#link.isReady) return this.#joinLocally(member);
    this.#claiming.add(key);
    const joinedAt = Date.now();
    return this.#claimName(member, joinedAt).then(
      (claimed) => {
        this.#claiming.delete(key);
        return claimed && this.#joinLocally(member, joinedAt);
      },
      () => {
        // Redis went away during the claim: serve this process alone, as during any outage.
        this.#claiming.delete(key);
        return this.#joinLocally(member, joinedAt);
      },
    );
  }

  leave(member: Member): void {
    if (!this.#joinedAt.delete(member)) return;
    this.#local.leave(member);
    if (!this.#link.isReady) return;
    const key = nameKey(member.name);
    this.#release.run([NAME_KEY_PREFIX + key, this.#nodeKey], [this.#link.nodeId, key]).catch(() => {});
  }

  names(): string[] | Promise<string[]> {
    if (!this.#link.isReady) return this.#local.names();
    return this.#who.run([NODES_KEY], [NODE_KEY_PREFIX]).then((reply) => this.#everyone(reply), () => this.#local.names());
  }

  broadcast(line: string, sender?: Member): void {
    this.#local.broadcast(line, sender);
    this.#link.publish(LINES_CHANNEL, this.#link.nodeId + line);
  }

  /** Stop refreshing; the users' names are released as their sessions leave. */
  close(): void {
    clearInterval(this.#timer);
  }

  #joinLocally(member: Member, joinedAt = Date.now()): boolean {
    if (!this.#local.join(member)) return false;
    this.#joinedAt.set(member, joinedAt);
    return true;
  }

  async #claimName(member: Member, joinedAt: number): Promise<boolean> {
    const key = nameKey(member.name);
    const reply = await this.#claim.run(
      [NAME_KEY_PREFIX + key, this.#nodeKey, NODES_KEY],
      [this.#link.nodeId, key, `${joinedAt} ${member.name}`, PRESENCE_TTL_MS],
    );
    return reply === 1;
  }

  async #keepAlive(): Promise<void> {
    if (this.#joinedAt.size === 0 || !this.#link.isReady) return;
    try {
      const alive = await this.#refresh.run([this.#nodeKey], [PRESENCE_TTL_MS, NAME_KEY_PREFIX]);
      if (alive === 0) await this.#claimAllAgain();
    } catch {
      // Redis is away: the next refresh after it returns puts everything back.
    }
  }

  /**
   * After a reconnect our presence may be gone (a restarted Redis, an outage longer than the TTL) or stale
   * (users who left during the outage could not be released): start it again from the users we have now.
   * The DEL and the claims go out on one connection, so Redis runs them in that order.
   */
  async #claimAllAgain(): Promise<void> {
    this.#link.commands.send(['DEL', this.#nodeKey]).catch(() => {});
    for (const [member, joinedAt] of this.#joinedAt) {
      try {
        if (!(await this.#claimName(member, joinedAt))) {
          this.#log(`batchat: the name ${JSON.stringify(member.name)} was taken on another process while Redis was away; both users keep it`);
        }
      } catch {
        return; // away again
      }
    }
  }

  /** /who: every node's entries ("<joined at> <name>") in joining order, plus local users not claimed yet. */
  #everyone(reply: unknown): string[] {
    const entries: { joinedAt: number; name: string }[] = [];
    const listed = new Set<string>();
    for (const value of Array.isArray(reply) ? reply : []) {
      const text = String(value);
      const space = text.indexOf(' ');
      const name = text.slice(space + 1);
      entries.push({ joinedAt: Number(text.slice(0, space)), name });
      listed.add(nameKey(name));
    }
    for (const [member, joinedAt] of this.#joinedAt) {
      if (!listed.has(nameKey(member.name))) entries.push({ joinedAt, name: member.name });
    }
    entries.sort((a, b) => a.joinedAt - b.joinedAt);
    return entries.map((entry) => entry.name);
  }

  #relayed(payload: Buffer): void {
    if (payload.length <= NODE_ID_LENGTH || payload.toString('latin1', 0, NODE_ID_LENGTH) === this.#link.nodeId) return;
    this.#local.broadcast(payload.toString('utf8', NODE_ID_LENGTH));
  }
}
