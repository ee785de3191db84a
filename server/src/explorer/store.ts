// Where the explorer keeps what must outlive a request: sign-in sessions and each user's last calls. Without Redis,
// this process's memory (one replica). With REDIS_URL, Redis: a user may sign in on one replica, come back on another,
// and watch calls any replica served; sign-out on one replica ends the session on all.
import { randomBytes } from 'node:crypto';
import { connectRedis } from '../redis.ts';
import { CALLS_PER_USER, createMemoryCallStore, type CallStore, type CallTrace } from './calls.ts';

export interface ExplorerSession {
  sub: string;
  username: string | undefined;
  /** Unix seconds. */
  exp: number;
}

export interface SessionStore {
  /** A new random session id for `session`, kept until its `exp`. */
  open(session: ExplorerSession): Promise<string>;
  /** The session, or undefined when unknown, expired, signed out, or the store is unreachable. */
  get(id: string): Promise<ExplorerSession | undefined>;
  /** Ends the session everywhere; true when there was one. */
  revoke(id: string): Promise<boolean>;
}

export interface ExplorerStore {
  kind: 'memory' | 'redis';
  calls: CallStore;
  sessions: SessionStore;
  close(): Promise<void>;
}

const newSessionId = () => randomBytes(32).toString('base64url');
const nowSeconds = () => Date.now() / 1000;

export function createMemoryExplorerStore(maxSessions = 10_000): ExplorerStore {
  const sessions = new Map<string, ExplorerSession>();
  return {
    kind: 'memory',
    calls: createMemoryCallStore(),
    sessions: {
      async open(session) {
        // Oldest first: expired records and, past the cap, the oldest live ones make room.
        for (const [id, record] of sessions)
          if (sessions.size >= maxSessions || record.exp <= nowSeconds()) sessions.delete(id);
          else break;
        const id = newSessionId();
        sessions.set(id, session);
        return id;
      },
      async get(id) {
        const session = sessions.get(id);
        if (!session || session.exp > nowSeconds()) return session;
        sessions.delete(id);
        return undefined;
      },
      revoke: async (id) => sessions.delete(id),
    },
    close: async () => {},
  };
}

/**
 * The explorer's state in Redis under `<prefix>explorer:`: `session:<id>` (JSON, expiring with the session),
 * `calls:<sub>` (a list of JSON traces, newest first, trimmed to the last 20 and expiring 8 h after the last call)
 * and `seq` (call ids). Redis down: nothing is recorded, and the page asks the user to sign in again; tool calls are
 * never affected. `onError` hears each distinct failure once.
 */
export function createRedisExplorerStore(url: string, prefix: string, onError: (error: Error) => void): ExplorerStore {
  const { redis, report } = connectRedis(url, onError);
  const key = (...parts: string[]) => `${prefix}explorer:${parts.join(':')}`;
  /** Runs `work`, or answers `fallback` when Redis is not ready or fails. */
  const guarded = async <T>(fallback: T, work: () => Promise<T>): Promise<T> => {
    if (redis.status !== 'ready') return fallback;
    try {
      return await work();
    } catch (error) {
      report(error as Error);
      return fallback;
    }
  };
  const calls: CallStore = {
    record: (trace) =>
      guarded(undefined, async () => {
        const id = await redis.incr(key('seq'));
        await redis
          .multi()
          .lpush(key('calls', trace.sub), JSON.stringify({ ...trace, id }))
          .ltrim(key('calls', trace.sub), 0, CALLS_PER_USER - 1)
          .expire(key('calls', trace.sub), 8 * 3600)
          .exec();
      }),
    list: (sub) =>
      guarded([] as CallTrace[], async () =>
        (await redis.lrange(key('calls', sub), 0, CALLS_PER_USER - 1)).map((json) => JSON.parse(json) as CallTrace),
      ),
    latest: (sub) =>
      guarded(0, async () => {
        const newest = await redis.lindex(key('calls', sub), 0);
        return newest ? (JSON.parse(newest) as CallTrace).id : 0;
      }),
  };
  const sessions: SessionStore = {
    async open(session) {
      const id = newSessionId();
      const seconds = Math.max(1, Math.ceil(session.exp - nowSeconds()));
      // Opening must not silently fail: the user would be sent round the sign-in again and again.
      if (redis.status !== 'ready') throw new Error(`Redis is ${redis.status}: the explorer cannot keep a session`);
      await redis.set(key('session', id), JSON.stringify(session), 'EX', seconds);
      return id;
    },
    get: (id) =>
      guarded(undefined, async () => {
        const json = await redis.get(key('session', id));
        const session = json ? (JSON.parse(json) as ExplorerSession) : undefined;
        return session && session.exp > nowSeconds() ? session : undefined;
      }),
    revoke: (id) => guarded(false, async () => (await redis.del(key('session', id))) === 1),
  };
  return {
    kind: 'redis',
    calls,
    sessions,
    async close() {
      redis.disconnect();
    },
  };
}
