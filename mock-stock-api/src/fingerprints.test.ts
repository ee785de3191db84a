import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { createFingerprintLog, tokenFingerprint } from './fingerprints.ts';

function appWith(limit = 1000) {
  const log = createFingerprintLog(limit, () => new Date('2026-01-15T12:00:00Z'));
  const app = new Hono();
  app.use(log.middleware);
  app.get('/portfolio', (c) => c.json({ ok: true }, 401));
  return { app, log };
}

describe('createFingerprintLog', () => {
  it('records the SHA-256 of every bearer token received, accepted or not, and never the token', async () => {
    const { app, log } = appWith();
    await app.request('/portfolio', { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.deepEqual(log.list(), [
      { at: '2026-01-15T12:00:00.000Z', route: 'GET /portfolio', sha256: tokenFingerprint('abc.def.ghi') },
    ]);
    assert.ok(!JSON.stringify(log.list()).includes('abc.def.ghi'));
  });

  it('records nothing for a request without a bearer token', async () => {
    const { app, log } = appWith();
    await app.request('/portfolio');
    await app.request('/portfolio', { headers: { authorization: 'Basic eDp5' } });
    assert.equal(log.list().length, 0);
  });

  it('keeps only the last `limit` fingerprints', async () => {
    const { app, log } = appWith(2);
    for (const token of ['a', 'b', 'c'])
      await app.request('/portfolio', { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(
      log.list().map((f) => f.sha256),
      [tokenFingerprint('b'), tokenFingerprint('c')],
    );
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => createFingerprintLog(0), /positive integer/);
  });
});
