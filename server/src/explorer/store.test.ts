// The explorer's sessions and calls, in memory and in a real Redis shared by two "replicas".
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { CallTrace } from './calls.ts';
import { createMemoryExplorerStore, createRedisExplorerStore, type ExplorerStore } from './store.ts';
import { redisAvailable, TEST_REDIS_URL } from '../testing.ts';

const REDIS_URL = TEST_REDIS_URL;
const REDIS_UP = await redisAvailable();

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const trace = (sub: string, tool: string): Omit<CallTrace, 'id'> => ({
  at: new Date().toISOString(),
  tool,
  requestId: randomUUID(),
  sub,
  username: undefined,
  userToken: { hash: 'h', header: {}, claims: {} },
  steps: [],
  outcome: 'ok',
  totalMs: 1,
});
const ready = async (store: ExplorerStore) => {
  // A Redis store answers false (fallback) until connected: wait until a real write sticks.
  for (let i = 0; i < 100; i++) {
    const id = await store.sessions.open({ sub: 'probe', username: undefined, exp: inAnHour() }).catch(() => '');
    if (id && (await store.sessions.get(id))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('store not ready');
};

for (const kind of ['memory', 'redis'] as const) {
  describe(
    `${kind} explorer store`,
    { skip: kind === 'redis' && !REDIS_UP ? 'no Redis on 127.0.0.1:6379' : false },
    () => {
      const prefix = `mcp-unit-${randomUUID()}:`;
      let a: ExplorerStore;
      let b: ExplorerStore;
      before(async () => {
        a = kind === 'memory' ? createMemoryExplorerStore() : createRedisExplorerStore(REDIS_URL, prefix, () => {});
        b = kind === 'memory' ? a : createRedisExplorerStore(REDIS_URL, prefix, () => {});
        await ready(a);
        await ready(b);
      });
      after(async () => {
        if (kind === 'redis') {
          const raw = new Redis(REDIS_URL);
          const keys = await raw.keys(`${prefix}*`);
          if (keys.length) await raw.del(...keys);
          await raw.quit();
        }
        await a.close();
        await b.close();
      });

      it('finds a session on any replica until it is revoked on any replica', async () => {
        const id = await a.sessions.open({ sub: 'alice', username: 'alice', exp: inAnHour() });
        assert.equal((await b.sessions.get(id))?.sub, 'alice');
        assert.equal(await b.sessions.revoke(id), true);
        assert.equal(await a.sessions.get(id), undefined);
        assert.equal(await a.sessions.revoke(id), false);
      });

      it('forgets an expired session and never returns an unknown id', async () => {
        const id = await a.sessions.open({ sub: 'bob', username: 'bob', exp: Date.now() / 1000 - 1 });
        assert.equal(await b.sessions.get(id), undefined);
        assert.equal(await b.sessions.get('made-up-id'), undefined);
      });

      it("lists a user's last 20 calls newest first, wherever they were recorded, and only theirs", async () => {
        const sub = `user-${randomUUID()}`;
        for (let i = 0; i < 22; i++) await (i % 2 ? a : b).calls.record(trace(sub, `tool-${i}`));
        await a.calls.record(trace('someone-else', 'other'));
        const listed = await b.calls.list(sub);
        assert.equal(listed.length, 20);
        assert.equal(listed[0]?.tool, 'tool-21');
        assert.equal(listed[19]?.tool, 'tool-2');
        assert.ok(listed.every((call) => call.sub === sub));
        assert.equal(await a.calls.latest(sub), listed[0]?.id);
        assert.equal(await a.calls.latest('nobody'), 0);
      });
    },
  );
}
