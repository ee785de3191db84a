import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DownstreamError, ExchangeError } from '../errors.ts';
import { TOOLS, TOOLS_BY_NAME, toolError } from './tools.ts';

describe('TOOLS', () => {
  it('names the scope each tool needs in its description', () => {
    for (const tool of TOOLS) {
      for (const scope of tool.requiredScopes) assert.match(tool.description, new RegExp(scope), tool.name);
      assert.equal(tool.readOnly, tool.name !== 'place_order');
    }
  });

  it('rejects a place_order quantity that is not a positive integer up to 10000', () => {
    const schema = TOOLS_BY_NAME.get('place_order')?.inputSchema;
    assert.ok(schema);
    for (const quantity of [-1, 0, 1.5, 10_001])
      assert.equal(schema.safeParse({ symbol: 'ACME', side: 'buy', quantity }).success, false, String(quantity));
    assert.equal(schema.safeParse({ symbol: 'acme', side: 'sell', quantity: 10_000 }).success, true);
  });

  it('accepts only ticker-shaped symbols and upper-cases them', () => {
    const schema = TOOLS_BY_NAME.get('get_stock_info')?.inputSchema;
    assert.ok(schema);
    assert.deepEqual(schema.parse({ symbol: ' brk.b ' }), { symbol: 'BRK.B' });
    for (const symbol of ['', '../admin', 'ACME?x=1', 'A'.repeat(13)])
      assert.equal(schema.safeParse({ symbol }).success, false, symbol);
  });

  it('rejects symbols that are dot path segments (regression: ".." reached the stock API as /stocks/.. → /)', () => {
    const schema = TOOLS_BY_NAME.get('get_stock_info')?.inputSchema;
    assert.ok(schema);
    for (const symbol of ['.', '..', '...', ' .. ', '.ACME', '%2e%2e'])
      assert.equal(schema.safeParse({ symbol }).success, false, symbol);
    for (const symbol of ['A', 'BRK.B', 'A..']) assert.equal(schema.safeParse({ symbol }).success, true, symbol);
    assert.equal(
      TOOLS_BY_NAME.get('place_order')?.inputSchema.safeParse({ symbol: '..', side: 'buy', quantity: 1 }).success,
      false,
    );
  });
});

describe('TOOLS_BY_NAME', () => {
  it('indexes every tool by name', () => {
    assert.equal(TOOLS_BY_NAME.size, TOOLS.length);
    assert.equal(TOOLS_BY_NAME.get('whoami')?.requiredScopes.length, 0);
  });
});

describe('toolError', () => {
  it('turns an ExchangeError into an isError result with what to do', () => {
    const result = toolError(new ExchangeError('scope_refused', 'Keycloak refused.', 'Ask for the trader role.'));
    assert.equal(result?.isError, true);
    assert.equal(result?.content[0]?.text, 'Keycloak refused. What to do: Ask for the trader role.');
    assert.deepEqual(result?.structuredContent, {
      error: 'scope_refused',
      message: 'Keycloak refused.',
      fix: 'Ask for the trader role.',
    });
  });

  it('turns a DownstreamError into an isError result', () => {
    const result = toolError(new DownstreamError('stock_api_timeout', 'slow'));
    assert.equal(result?.isError, true);
    assert.equal(result?.structuredContent?.error, 'stock_api_timeout');
  });

  it('returns undefined for anything else', () => {
    assert.equal(toolError(new TypeError('bug')), undefined);
  });
});
