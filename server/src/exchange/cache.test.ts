import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { Redis } from 'ioredis';
import { createSigner, redisAvailable, TEST_REDIS_URL, userClaims, type Signer } from '../testing.ts';
import {
  cacheKey,
  createMemoryCache,
  createNoCache,
  createRedisCache,
  open,
  seal,
  type CachedToken,
  type TokenCache,
} from './cache.ts';

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;
const REDIS_URL = TEST_REDIS_URL;

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const REDIS_UP = await redisAvailable();

let signer: Signer;
let subject: string;
let value: CachedToken;
before(async () => {
  signer = await createSigner();
  subject = await signer.sign();
  value = {
    accessToken: await signer.sign(userClaims({ aud: 'stock-api' })),
    expiresAt: Date.now() + 300_000,
    scope: 'portfolio:read',
  };
});

describe('seal', () => {
  it('produces base64url text that contains neither token', () => {
    const sealed = seal(subject, value);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes(value.accessToken) && !sealed.includes(subject));
    assert.doesNotMatch(sealed, JWT_LIKE);
  });

  it('uses a fresh IV each time', () => {
    assert.notEqual(seal(subject, value), seal(subject, value));
  });
});

describe('open', () => {
  it('round-trips a sealed value with the same subject token', () => {
    assert.deepEqual(open(subject, seal(subject, value)), value);
  });

  it('returns undefined for another subject token', async () => {
    const other = await signer.sign(userClaims());
    assert.equal(open(other, seal(subject, value)), undefined);
  });

  it('returns undefined for tampered or garbage input', () => {
    const sealed = seal(subject, value);
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    assert.equal(open(subject, flipped), undefined);
    assert.equal(open(subject, ''), undefined);
    assert.equal(open(subject, 'not-sealed'), undefined);
  });
});

describe('cacheKey', () => {
  it('differs per audience, scope and subject token', () => {
    const base = cacheKey(subject, 'stock-api', 'portfolio:read');
    assert.equal(base, cacheKey(subject, 'stock-api', 'portfolio:read'));
    assert.notEqual(base, cacheKey(subject, 'stock-api', 'trade:read'));
    assert.notEqual(base, cacheKey(subject, 'other-api', 'portfolio:read'));
    assert.notEqual(base, cacheKey(`${subject}x`, 'stock-api', 'portfolio:read'));
  });

  it('separates fields so they cannot run into each other', () => {
    assert.notEqual(cacheKey('t', 'ab', 'c'), cacheKey('t', 'a', 'bc'));
    assert.notEqual(cacheKey('ta', 'b', 'c'), cacheKey('t', 'ab', 'c'));
  });

  it('does not contain the subject token', () => {
    const key = cacheKey(subject, 'stock-api', 'portfolio:read');
    assert.match(key, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!key.includes(subject.split('.')[1] as string));
  });
});

describe('createMemoryCache', () => {
  afterEach(() => mock.timers.reset());

  it('returns what was set, only to the same subject, audience and scope', async () => {
    const cache = createMemoryCache();
    await cache.set(subject, 'stock-api', 'portfolio:read', value, 60);
    assert.deepEqual(await cache.get(subject, 'stock-api', 'portfolio:read'), value);
    assert.equal(await cache.get(subject, 'stock-api', 'trade:read'), undefined);
    assert.equal(await cache.get(await signer.sign(userClaims()), 'stock-api', 'portfolio:read'), undefined);
    assert.deepEqual(cache.status(), { ok: true, detail: 'memory (1 entries)' });
    assert.equal(cache.kind, 'memory');
  });

  it('forgets an entry when its TTL has passed', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const cache = createMemoryCache();
    await cache.set(subject, 'stock-api', 'portfolio:read', value, 60);
    mock.timers.tick(59_000);
    assert.deepEqual(await cache.get(subject, 'stock-api', 'portfolio:read'), value);
    mock.timers.tick(1_000);
    assert.equal(await cache.get(subject, 'stock-api', 'portfolio:read'), undefined);
    assert.equal(cache.status().detail, 'memory (0 entries)');
  });

  it('evicts the oldest entry beyond maxEntries', async () => {
    const cache = createMemoryCache(2);
    await cache.set(subject, 'a', 's', value, 60);
    await cache.set(subject, 'b', 's', value, 60);
    await cache.set(subject, 'c', 's', value, 60);
    assert.equal(await cache.get(subject, 'a', 's'), undefined);
    assert.deepEqual(await cache.get(subject, 'c', 's'), value);
  });

  it('empties on close', async () => {
    const cache = createMemoryCache();
    await cache.set(subject, 'a', 's', value, 60);
    await cache.close();
    assert.equal(await cache.get(subject, 'a', 's'), undefined);
  });
});

describe('createNoCache', () => {
  it('never returns anything', async () => {
    const cache = createNoCache();
    await cache.set(subject, 'a', 's', value, 60);
    assert.equal(await cache.get(subject, 'a', 's'), undefined);
    assert.equal(cache.kind, 'off');
    assert.equal(cache.status().ok, true);
  });
});

describe('createRedisCache', { skip: REDIS_UP ? false : 'no Redis on 127.0.0.1:6379 (make up starts one)' }, () => {
  const prefix = `mcp-unit-${randomUUID()}:`;
  let raw: Redis;
  let cache: TokenCache;
  const errors: Error[] = [];

  before(async () => {
    raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await raw.connect();
    cache = createRedisCache(REDIS_URL, prefix, (error) => errors.push(error));
    await until(() => cache.status().ok);
  });
  after(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    await cache.close();
    await raw.quit();
  });

  it('stores a sealed value under the prefix with the TTL and reads it back', async () => {
    await cache.set(subject, 'stock-api', 'portfolio:read', value, 60);
    assert.deepEqual(await cache.get(subject, 'stock-api', 'portfolio:read'), value);
    const key = `${prefix}${cacheKey(subject, 'stock-api', 'portfolio:read')}`;
    const ttl = await raw.pttl(key);
    assert.ok(ttl > 55_000 && ttl <= 60_000, `ttl ${ttl}`);
    assert.deepEqual(await raw.keys(`${prefix}*`), [key]);
  });

  it('stores no JWT-looking text, in keys or values', async () => {
    await cache.set(subject, 'stock-api', 'trade:read', value, 60);
    for (const key of await raw.keys(`${prefix}*`)) {
      const stored = (await raw.get(key)) ?? '';
      assert.ok(stored.length > 0);
      assert.doesNotMatch(stored, JWT_LIKE);
      assert.doesNotMatch(key, JWT_LIKE);
      assert.ok(!stored.includes(value.accessToken) && !stored.includes(subject));
    }
  });

  it('does not open an entry for another subject token', async () => {
    await cache.set(subject, 'stock-api', 'portfolio:read', value, 60);
    const other = await signer.sign(userClaims());
    // Same key material would be needed to even find the entry; a forged key lookup still cannot open it.
    const sealed = (await raw.get(`${prefix}${cacheKey(subject, 'stock-api', 'portfolio:read')}`)) ?? '';
    assert.equal(open(other, sealed), undefined);
    assert.equal(await cache.get(other, 'stock-api', 'portfolio:read'), undefined);
  });

  it('skips a set whose TTL is not positive', async () => {
    await cache.set(subject, 'stock-api', 'zero-ttl', value, 0);
    assert.equal(await raw.exists(`${prefix}${cacheKey(subject, 'stock-api', 'zero-ttl')}`), 0);
  });

  it('reports ready without the password in its status', async () => {
    const status = cache.status();
    assert.equal(status.ok, true);
    assert.match(status.detail, /redis redis:\/\/127\.0\.0\.1:6379\/? ready/);
    assert.equal(cache.kind, 'redis');
    assert.deepEqual(errors, []);
  });
});

describe('createRedisCache with Redis down', () => {
  it('misses immediately, drops sets, and reports not ok', async () => {
    const errors: Error[] = [];
    const cache = createRedisCache('redis://user:hunter2@127.0.0.1:1', 'mcp-unit-down:', (error) => errors.push(error));
    try {
      const started = performance.now();
      assert.equal(await cache.get(subject, 'stock-api', 'portfolio:read'), undefined);
      await cache.set(subject, 'stock-api', 'portfolio:read', value, 60);
      assert.equal(await cache.get(subject, 'stock-api', 'portfolio:read'), undefined);
      assert.ok(performance.now() - started < 100, 'a Redis outage must not slow a call down');
      await until(() => errors.length > 0);
      const status = cache.status();
      assert.equal(status.ok, false);
      assert.match(status.detail, /exchanging without cache/);
      assert.ok(!status.detail.includes('hunter2'));
    } finally {
      await cache.close();
    }
  });
});
