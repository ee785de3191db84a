import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireExchangedToken, requireScope } from './middleware.ts';

describe('requireExchangedToken', () => {
  const keys = async () => {
    throw new Error('unused');
  };

  it('checks its options at construction', () => {
    assert.throws(
      () =>
        requireExchangedToken({
          keys,
          issuer: '',
          audience: 'stock-api',
          exchangeClientId: 'http://localhost:3000/mcp',
        }),
      /"issuer"/,
    );
    assert.throws(
      () =>
        requireExchangedToken({
          keys: undefined as never,
          issuer: 'http://x',
          audience: 'stock-api',
          exchangeClientId: 'http://localhost:3000/mcp',
        }),
      /"keys"/,
    );
  });

  it('returns a named middleware', () => {
    const mw = requireExchangedToken({
      keys,
      issuer: 'http://x',
      audience: 'stock-api',
      exchangeClientId: 'http://localhost:3000/mcp',
    });
    assert.equal(mw.name, 'requireExchangedTokenMiddleware');
  });
});

describe('requireScope', () => {
  it('rejects an empty or multi-word scope at construction', () => {
    assert.throws(() => requireScope(''), TypeError);
    assert.throws(() => requireScope('trade:read trade:write'), TypeError);
  });

  it('returns a named middleware', () => {
    assert.equal(requireScope('trade:read').name, 'requireScopeMiddleware');
  });
});

describe('requireExchangedToken verification cache', () => {
  it('rejects a token it accepted earlier once the token has expired (the cache never outlives exp)', async () => {
    const { Hono } = await import('hono');
    const { createSigner, exchangedClaims, NOW, NOW_SECONDS, ISSUER, bearer } = await import('./testing.ts');
    const signer = await createSigner();
    let clock = NOW;
    const app = new Hono();
    app.use(
      '*',
      requireExchangedToken({
        keys: signer.keys,
        issuer: ISSUER,
        audience: 'stock-api',
        exchangeClientId: 'http://localhost:3000/mcp',
        now: () => clock,
      }) as never,
    );
    app.get('/x', (c) => c.text('ok'));
    const token = await signer.sign(exchangedClaims({ exp: NOW_SECONDS + 60 }));
    assert.equal((await app.request('/x', bearer(token))).status, 200);
    assert.equal((await app.request('/x', bearer(token))).status, 200, 'second call served from the cache');
    clock = new Date(NOW.getTime() + 120_000);
    assert.equal((await app.request('/x', bearer(token))).status, 401);
  });
});
