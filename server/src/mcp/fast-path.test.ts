import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, legacyRequest, modernRequest, TRADER_SCOPE, userClaims, type TestApp } from '../testing.ts';
import { fastToolCall } from './fast-path.ts';

// Every tool, valid and invalid arguments, both eras: the fast path must answer exactly as the SDK does.
const CALLS: Array<[string, Record<string, unknown> | undefined]> = [
  ['get_stock_info', { symbol: 'ACME' }], ['search_stocks', { query: 'acme' }], ['get_portfolio', {}], ['get_portfolio', undefined],
  ['place_order', { symbol: 'ACME', side: 'buy', quantity: 3 }], ['place_order', { symbol: 'ACME', side: 'buy', quantity: 3, limit_price: 10 }],
  ['whoami', {}], ['greet', { name: 'Ada' }], ['greet', {}], ['get_datetime', {}],
  ['get_stock_info', { symbol: 7 }], ['place_order', { symbol: 'ACME', side: 'hold', quantity: -1 }], ['no_such_tool', {}],
];

describe('fast path vs SDK path', () => {
  let fast: TestApp;
  let sdk: TestApp;
  let token: string;
  before(async () => {
    fast = await createTestApp({ fastPath: true });
    sdk = await createTestApp({ signer: fast.signer, fastPath: false });
    token = await fast.signer.sign(userClaims({ scope: TRADER_SCOPE }));
  });
  after(async () => { await fast.close(); await sdk.close(); });

  for (const era of ['2025-11-25', '2026-07-28'] as const) {
    for (const [name, args] of CALLS) {
      it(`answers tools/call ${name} ${JSON.stringify(args)} identically in ${era}`, async () => {
        const params = { name, ...(args === undefined ? {} : { arguments: args }) };
        const make = () => (era === '2026-07-28' ? modernRequest('tools/call', params, { token }) : legacyRequest('tools/call', params, { token }));
        const [a, b] = [make(), make()];
        const bodyA = JSON.parse(await a.clone().text()) as { id: number };
        const bodyB = JSON.parse(await b.clone().text()) as { id: number };
        const [ra, rb] = await Promise.all([fast.app.request(a), sdk.app.request(b)]);
        assert.equal(ra.status, rb.status);
        assert.equal(ra.headers.get('content-type'), rb.headers.get('content-type'));
        const [ja, jb] = [await ra.json() as { id: number }, await rb.json() as { id: number }];
        assert.equal(ja.id, bodyA.id);
        assert.equal(jb.id, bodyB.id);
        assert.deepEqual({ ...ja, id: 0 }, { ...jb, id: 0 });
      });
    }
  }

  it('takes the fast path only for plain, valid tools/call requests (counted by the stock API calls staying equal)', async () => {
    const before = fast.metrics.toolCalls;
    const response = await fast.app.request(legacyRequest('tools/call', { name: 'whoami', arguments: {} }, { token }));
    assert.equal(response.status, 200);
    assert.equal(fast.metrics.toolCalls, before + 1);
  });
});

describe('fastToolCall', () => {
  const legacyHeaders = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' });
  const call = (params: Record<string, unknown>, id: unknown = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const modernHeaders = (name: string, extra: Record<string, string> = {}) => new Headers({ 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name, ...extra });

  it('recognises a 2025-11-25 tools/call for a known tool', () => {
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami', arguments: {} }))?.era, 'legacy');
  });
  it('recognises a 2026-07-28 tools/call with a complete envelope and matching headers', () => {
    assert.equal(fastToolCall(modernHeaders('whoami'), call({ name: 'whoami', arguments: {}, _meta: envelope }))?.era, 'modern');
  });
  it('leaves everything else to the SDK', () => {
    assert.equal(fastToolCall(legacyHeaders, [call({ name: 'whoami' })]), undefined, 'batch');
    assert.equal(fastToolCall(legacyHeaders, { jsonrpc: '2.0', method: 'tools/call', params: { name: 'whoami' } }), undefined, 'notification');
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'nope' })), undefined, 'unknown tool');
    assert.equal(fastToolCall(legacyHeaders, { ...call({ name: 'whoami' }), method: 'tools/list' }), undefined, 'other method');
    assert.equal(fastToolCall(new Headers({ ...Object.fromEntries(legacyHeaders), 'mcp-protocol-version': '2024-11-05' }), call({ name: 'whoami' })), undefined, 'old version');
    assert.equal(fastToolCall(new Headers({ ...Object.fromEntries(legacyHeaders), accept: 'application/json' }), call({ name: 'whoami' })), undefined, 'legacy without SSE accept');
    assert.equal(fastToolCall(modernHeaders('greet'), call({ name: 'whoami', _meta: envelope })), undefined, 'Mcp-Name mismatch');
    assert.equal(fastToolCall(modernHeaders('whoami'), call({ name: 'whoami' })), undefined, 'modern without envelope');
    assert.equal(fastToolCall(modernHeaders('whoami'), call({ name: 'whoami', _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } })), undefined, 'envelope version mismatch');
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami', _meta: envelope })), undefined, 'legacy header with modern envelope');
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami', arguments: [] })), undefined, 'array arguments');
    assert.equal(fastToolCall(legacyHeaders, call({ name: 'whoami' }, null)), undefined, 'null id');
  });
});
