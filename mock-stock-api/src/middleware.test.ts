import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireExchangedToken, requireScope } from './middleware.ts';

describe('requireExchangedToken', () => {
  const keys = async () => { throw new Error('unused'); };

  it('checks its options at construction', () => {
    assert.throws(() => requireExchangedToken({ keys, issuer: '', audience: 'stock-api', exchangeClientId: 'mcp-server' }), /"issuer"/);
    assert.throws(
      () => requireExchangedToken({ keys: undefined as never, issuer: 'http://x', audience: 'stock-api', exchangeClientId: 'mcp-server' }),
      /"keys"/,
    );
  });

  it('returns a named middleware', () => {
    const mw = requireExchangedToken({ keys, issuer: 'http://x', audience: 'stock-api', exchangeClientId: 'mcp-server' });
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
