// Exchanged-token cache: Redis (shared) or memory, keyed by a hash of subject token + audience + scope.
// Values are sealed with AES-256-GCM under a key derived from the subject token, so a Redis dump holds no usable
// token and an entry can only ever be opened by a request carrying the same subject token.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { connectRedis } from '../redis.ts';

export interface CachedToken {
  accessToken: string;
  expiresAt: number;
  scope: string;
}

export interface TokenCache {
  readonly kind: 'redis' | 'memory' | 'off';
  get(subjectToken: string, audience: string, scope: string): Promise<CachedToken | undefined>;
  set(subjectToken: string, audience: string, scope: string, value: CachedToken, ttlSeconds: number): Promise<void>;
  status(): { ok: boolean; detail: string };
  close(): Promise<void>;
}

export function cacheKey(subjectToken: string, audience: string, scope: string): string {
  return createHash('sha256')
    .update(subjectToken)
    .update('\n')
    .update(audience)
    .update('\n')
    .update(scope)
    .digest('base64url');
}

function sealingKey(subjectToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', subjectToken, 'mcp-sandbox-exchange-cache', 'aes-256-gcm', 32));
}

export function seal(subjectToken: string, value: CachedToken): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(subjectToken), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function open(subjectToken: string, sealed: string): CachedToken | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(subjectToken), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString()) as CachedToken;
  } catch {
    return undefined;
  }
}

/** An in-process LRU of exchanged tokens (the default when REDIS_URL is unset). */
export function createMemoryCache(maxEntries = 10_000): TokenCache {
  const entries = new Map<string, { sealed: string; until: number }>();
  return {
    kind: 'memory',
    async get(subject, audience, scope) {
      const key = cacheKey(subject, audience, scope);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.until <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return open(subject, entry.sealed);
    },
    async set(subject, audience, scope, value, ttlSeconds) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(cacheKey(subject, audience, scope), {
        sealed: seal(subject, value),
        until: Date.now() + ttlSeconds * 1000,
      });
    },
    status: () => ({ ok: true, detail: `memory (${entries.size} entries)` }),
    async close() {
      entries.clear();
    },
  };
}

/** No cache: every call exchanges at Keycloak (EXCHANGE_CACHE=off, for benchmarks). */
export function createNoCache(): TokenCache {
  return {
    kind: 'off',
    get: async () => undefined,
    set: async () => {},
    status: () => ({ ok: true, detail: 'off: every call exchanges' }),
    close: async () => {},
  };
}

/**
 * Redis cache that never blocks a tool call: with Redis down, get() misses and set() is dropped at once
 * (no offline queue), and the client reconnects in the background.
 */
export function createRedisCache(url: string, prefix: string, onError: (error: Error) => void): TokenCache {
  const { redis, lastError, report } = connectRedis(url, onError);
  const safeUrl = (() => {
    const u = new URL(url);
    u.password = '';
    u.username = '';
    return u.href;
  })();
  return {
    kind: 'redis',
    async get(subject, audience, scope) {
      if (redis.status !== 'ready') return undefined;
      try {
        const sealed = await redis.get(prefix + cacheKey(subject, audience, scope));
        return sealed ? open(subject, sealed) : undefined;
      } catch (error) {
        report(error as Error);
        return undefined;
      }
    },
    async set(subject, audience, scope, value, ttlSeconds) {
      if (redis.status !== 'ready' || ttlSeconds <= 0) return;
      try {
        await redis.set(prefix + cacheKey(subject, audience, scope), seal(subject, value), 'EX', ttlSeconds);
      } catch (error) {
        report(error as Error);
      }
    },
    status: () =>
      redis.status === 'ready'
        ? { ok: true, detail: `redis ${safeUrl} ready` }
        : {
            ok: false,
            detail: `redis ${safeUrl} ${redis.status}${lastError() ? `: ${lastError()}` : ''}; exchanging without cache`,
          },
    async close() {
      redis.disconnect();
    },
  };
}
