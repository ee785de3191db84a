// createApp's answers to malformed, mistyped, oversize and unknown requests: the right JSON-RPC or HTTP error,
// no crash, no stack trace, nothing sent to Keycloak or the stock API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  LEGACY_VERSION,
  legacyRequest,
  mcpHeaders,
  modernRequest,
  RESOURCE,
  rpc,
  startTestApp,
  stopTestApp,
  TRADER_SCOPE,
  userClaims,
  type TestApp,
  type ToolCallResult,
} from './testing.ts';

describe('createApp: bad requests', () => {
  let t: TestApp;
  let token: string;
  let trader: string;
  before(async () => {
    ({ t, token } = await startTestApp());
    trader = await t.signer.sign(userClaims({ scope: TRADER_SCOPE }));
  });
  after(() => stopTestApp(t));
  const callTool = async (
    name: string,
    args: Record<string, unknown>,
    bearer = token,
    era: 'legacy' | 'modern' = 'legacy',
  ) => {
    const response = await t.app.request(
      (era === 'legacy' ? legacyRequest : modernRequest)('tools/call', { name, arguments: args }, { token: bearer }),
    );
    return { response, result: response.status === 200 ? (await rpc<ToolCallResult>(response)).result : undefined };
  };

  for (const era of [LEGACY_VERSION, '2026-07-28'] as const) {
    it(`answers malformed JSON with a JSON-RPC parse error, not a 500 (${era})`, async () => {
      const response = await t.app.request(
        new Request(RESOURCE, {
          method: 'POST',
          headers: mcpHeaders({ token, headers: { 'mcp-protocol-version': era, 'mcp-method': 'tools/list' } }),
          body: '{"jsonrpc":"2.0",',
        }),
      );
      assert.equal(response.status, 400);
      const text = await response.text();
      assert.equal(JSON.parse(text).error.code, -32700);
      assert.doesNotMatch(text, /\bat .*\.(ts|js|mjs):\d+/);
    });
  }

  it('answers a wrong content type with 415', async () => {
    const response = await t.app.request(
      new Request(RESOURCE, {
        method: 'POST',
        headers: {
          ...mcpHeaders({ token, headers: { 'mcp-protocol-version': LEGACY_VERSION } }),
          'content-type': 'text/plain',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      }),
    );
    assert.equal(response.status, 415);
  });

  it('answers an oversize body with 413 before verifying the token', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { pad: 'x'.repeat(1_000_001) },
    });
    for (const bearer of [token, 'not-even-a-token']) {
      const response = await t.app.request(
        new Request(RESOURCE, { method: 'POST', headers: mcpHeaders({ token: bearer }), body }),
      );
      assert.equal(response.status, 413);
      assert.equal((await rpc(response)).error?.code, -32600);
    }
  });

  it('answers an unknown method with -32601 in both eras', async () => {
    const legacy = await rpc(await t.app.request(legacyRequest('foo/bar', {}, { token })));
    assert.equal(legacy.error?.code, -32601);
    const modern = await rpc(await t.app.request(modernRequest('foo/bar', {}, { token })));
    assert.equal(modern.error?.code, -32601);
  });

  it('answers invalid place_order arguments with an error result and keeps serving', async () => {
    for (const era of ['legacy', 'modern'] as const) {
      const { response, result } = await callTool(
        'place_order',
        { symbol: 'ACME', side: 'buy', quantity: -1 },
        trader,
        era,
      );
      assert.equal(response.status, 200);
      assert.equal(result?.isError, true);
      assert.match(result?.content[0]?.text ?? '', /quantity/);
    }
    assert.equal(t.tokenEndpoint.requests.length, 0);
    assert.equal(t.stockApi.requests.length, 0);
    assert.equal((await callTool('greet', {})).result?.isError, undefined);
  });

  it('answers an unknown tool with a JSON-RPC error', async () => {
    const body = await rpc(
      await t.app.request(legacyRequest('tools/call', { name: 'drop_tables', arguments: {} }, { token })),
    );
    assert.equal(body.error?.code, -32602);
  });

  it('logs the refusals a client caused at info, never at error level (any client could fill the error log)', async () => {
    const from = t.lines.length;
    const requests = [
      new Request(RESOURCE, {
        method: 'POST',
        headers: mcpHeaders({ token, headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' } }),
        body: '{"jsonrpc":"2.0",',
      }),
      new Request(RESOURCE, {
        method: 'POST',
        headers: {
          ...mcpHeaders({ token, headers: { 'mcp-protocol-version': '2026-07-28' } }),
          'content-type': 'text/plain',
        },
        body: '{}',
      }),
      modernRequest('tools/list', {}, { token, headers: { 'mcp-method': 'tools/call' } }),
      modernRequest('tools/list', {}, { token, headers: { 'mcp-protocol-version': '2099-01-01' } }),
    ];
    for (const request of requests) {
      const response = await t.app.request(request);
      assert.ok(
        response.status >= 400 && response.status < 500,
        `expected a 4xx, got ${response.status}: ${await response.text()}`,
      );
    }
    const lines = t.lines
      .slice(from)
      .map((line) => JSON.parse(line) as { level: string; msg: string; status?: number });
    assert.deepEqual(
      lines.filter((line) => line.level === 'error'),
      [],
    );
    assert.ok(
      lines.some(
        (line) => line.msg === 'request refused by the MCP handler' && line.level === 'info' && line.status === 400,
      ),
      JSON.stringify(lines),
    );
  });
});
