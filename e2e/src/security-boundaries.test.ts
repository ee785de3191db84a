// Security suite, boundaries: no token passthrough, no up-scoping, no path tricks into routes a token may not reach,
// per-user isolation under concurrency, nothing to hijack in a stateless server, Host/Origin guards, and the DCR
// policies. Real tokens from Keycloak throughout; the stock API's /_sandbox/received is the witness downstream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MCP_SERVER_CLIENT, STOCK_API_AUDIENCE } from '@sandbox/stack';
import { decodeClaims } from './harness/keycloak.ts';
import { createForger, plausibleClaims, recordToken, trackedUserToken, trackedUserTokens } from './harness/forge.ts';
import { metrics } from './harness/mcp-clients.ts';
import {
  ALL_SCOPES,
  assertNothingLeaked,
  callMcp,
  jsonRpcHeaders,
  rawHttp,
  received,
  toolText,
  type JsonRpcReply,
} from './harness/refusals.ts';
import { stack } from './harness/stack.ts';

const call = (name: string, args: Record<string, unknown> = {}, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
const sha16 = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

async function exchangeAsMcpServer(subjectToken: string, scope: string): Promise<Response> {
  return fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: {
      // RFC 6749 §2.3.1: the client ID (a URL here) is form-encoded before Basic.
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(stack().urls.mcp)}:${MCP_SERVER_CLIENT.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: STOCK_API_AUDIENCE,
      scope,
    }),
  });
}

/** A call that did not succeed, and failed the way a client can handle: a JSON-RPC error or an isError tool result. */
function assertFailedCleanly(reply: JsonRpcReply, tokens: string[], label: string): void {
  assert.ok(reply.status < 500, `${label}: HTTP ${reply.status}`);
  assert.ok(
    reply.body.error || reply.body.result?.isError || reply.status >= 400,
    `${label}: did not fail: ${reply.text.slice(0, 300)}`,
  );
  assert.doesNotMatch(reply.text, /holdings|"cash"/, `${label}: portfolio data in the reply`);
  assertNothingLeaked(reply.text, tokens, label);
}

describe('security: no token passthrough', () => {
  it('sends the stock API only tokens minted by exchange for mcp-server, whatever the clients sent', async () => {
    const since = Date.now();
    const alice = await trackedUserToken('alice', ALL_SCOPES);
    const bob = await trackedUserToken('bob', ALL_SCOPES);
    const forged = await (await createForger()).sign(plausibleClaims());
    const exchangedResponse = await exchangeAsMcpServer(alice, 'trade:read');
    assert.equal(exchangedResponse.status, 200);
    const exchanged = recordToken(((await exchangedResponse.json()) as { access_token: string }).access_token);
    const sent = [alice, bob, forged, exchanged];
    for (const token of sent) {
      for (const message of [
        call('get_stock_info', { symbol: 'ACME' }),
        call('search_stocks', { query: 'a' }),
        call('get_portfolio'),
      ])
        await callMcp(token, message);
    }
    // A client that got hold of an exchanged stock-api token cannot use it at the MCP server.
    const replay = await callMcp(exchanged, call('get_portfolio'));
    assert.equal(replay.status, 401);

    const decisions = await received(since);
    const accepted = decisions.filter((d) => d.accepted);
    assert.ok(accepted.length >= 6, `expected alice's and bob's calls downstream, got ${accepted.length}`);
    for (const decision of accepted) {
      assert.equal(
        decision.azp,
        stack().urls.mcp,
        `accepted a token not minted by exchange: ${JSON.stringify(decision)}`,
      );
      assert.deepEqual(decision.aud, [STOCK_API_AUDIENCE]);
    }
    const sentHashes = new Set(sent.map(sha16));
    for (const decision of decisions)
      assert.ok(
        !sentHashes.has(decision.tokenSha256Prefix ?? ''),
        `a client token reached the stock API (${decision.route})`,
      );
  });
});

describe('security: no up-scoping', () => {
  it("never turns bob's token into trade:write downstream: a final refusal at the MCP server, invalid_scope at Keycloak", async () => {
    const since = Date.now();
    const bob = await trackedUserTokens('bob', ALL_SCOPES);
    assert.doesNotMatch(bob.scope, /trade:write/, 'Keycloak granted bob trade:write');
    const bobSub = decodeClaims(bob.accessToken).sub;
    const order = await callMcp(bob.accessToken, call('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }));
    assert.equal(order.status, 200, order.text);
    assert.equal(order.body.result?.isError, true);
    assert.match(toolText(order), /bob cannot use place_order/);
    // Hidden in a JSON-RPC batch behind an allowed call: still gated.
    const batch = await callMcp(bob.accessToken, [
      call('whoami', {}, 1),
      call('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }, 2),
    ]);
    assert.equal(batch.status, 403);
    // Even if the MCP server asked, Keycloak's downscope enforcer would refuse.
    const direct = await exchangeAsMcpServer(bob.accessToken, 'trade:write');
    assert.equal(direct.status, 400);
    assert.equal(((await direct.json()) as { error: string }).error, 'invalid_scope');
    for (const decision of await received(since)) {
      if (decision.sub !== bobSub) continue;
      assert.doesNotMatch(decision.scope ?? '', /trade:write/);
      assert.notEqual(decision.route, 'POST /orders');
    }
  });
});

describe('security: a token without portfolio:read never reaches /portfolio', () => {
  it('refuses get_portfolio with 403 and sends nothing downstream', async () => {
    const since = Date.now();
    const token = await trackedUserToken('alice', 'mcp:tools trade:read');
    const reply = await callMcp(token, call('get_portfolio'));
    assert.equal(reply.status, 403);
    assert.equal((await received(since)).length, 0);
  });

  it('cannot be steered to /portfolio through get_stock_info or search_stocks arguments', async () => {
    const since = Date.now();
    const token = await trackedUserToken('alice', 'mcp:tools trade:read');
    const symbols = [
      '../portfolio',
      '..',
      '.',
      '%2e%2e',
      '%2E%2E%2Fportfolio',
      '..%2fportfolio',
      'ACME/../../portfolio',
      '../../portfolio?x=',
      '..\\portfolio',
      'portfolio',
      '....',
    ];
    for (const symbol of symbols)
      assertFailedCleanly(await callMcp(token, call('get_stock_info', { symbol })), [token], `symbol ${symbol}`);
    const queries = [
      '../portfolio',
      '../../portfolio',
      '%2e%2e/portfolio',
      'x&q=../portfolio',
      '/portfolio#',
      '..%2f..%2fportfolio',
      'a\r\nGET /portfolio',
    ];
    for (const query of queries) {
      const reply = await callMcp(token, call('search_stocks', { query }));
      assert.ok(reply.status < 500, `query ${query}: HTTP ${reply.status}`);
      assert.doesNotMatch(reply.text, /holdings|"cash"/, `query ${query}: portfolio data`);
      assertNothingLeaked(reply.text, [token], `query ${query}`);
    }
    const decisions = await received(since);
    assert.ok(decisions.length > 0, 'the search calls should have reached the stock API');
    for (const decision of decisions)
      assert.match(decision.route, /^GET \/stocks(\/[A-Z][A-Z.]*)?$/, `unexpected downstream route ${decision.route}`);
    assert.ok(!decisions.some((d) => d.route.includes('portfolio')));
  });
});

describe('security: isolation between users', () => {
  it('gives 200 concurrent mixed calls from alice and bob only their own data, and each exchanged token its caller', async () => {
    const tokens = await Promise.all([
      trackedUserToken('alice', ALL_SCOPES),
      trackedUserToken('bob', ALL_SCOPES),
      trackedUserToken('alice', ALL_SCOPES),
      trackedUserToken('bob', ALL_SCOPES),
    ]);
    const subOf = new Map(tokens.map((t) => [t, String(decodeClaims(t).sub)]));
    const subs = { alice: subOf.get(tokens[0] as string), bob: subOf.get(tokens[1] as string) };
    assert.notEqual(subs.alice, subs.bob);
    const m0 = await metrics();
    const since = Date.now();
    const expected: Record<string, number> = {};
    const calls = Array.from({ length: 200 }, (_, i) => {
      const token = tokens[i % 4] as string;
      const tool = i % 3 === 0 ? 'whoami' : 'get_portfolio';
      if (tool === 'get_portfolio')
        expected[subOf.get(token) as string] = (expected[subOf.get(token) as string] ?? 0) + 1;
      return callMcp(token, call(tool, {}, i)).then((reply) => ({ token, tool, reply }));
    });
    let checked = 0;
    for (const { token, tool, reply } of await Promise.all(calls)) {
      assert.equal(reply.status, 200, reply.text.slice(0, 200));
      const structured = reply.body.result?.structuredContent as
        { sub?: string; portfolio?: { owner?: { sub?: string } } } | undefined;
      const got = tool === 'whoami' ? structured?.sub : structured?.portfolio?.owner?.sub;
      assert.equal(got, subOf.get(token), `${tool} for ${subOf.get(token)} returned data of ${got}`);
      const other = subOf.get(token) === subs.alice ? subs.bob : subs.alice;
      assert.ok(!reply.text.includes(other as string), 'a reply mentions the other user');
      checked += 1;
    }
    assert.equal(checked, 200);
    const portfolioDecisions = (await received(since)).filter((d) => d.route === 'GET /portfolio');
    const bySub: Record<string, number> = {};
    for (const d of portfolioDecisions) {
      assert.equal(d.accepted, true);
      bySub[d.sub as string] = (bySub[d.sub as string] ?? 0) + 1;
    }
    assert.deepEqual(
      bySub,
      expected,
      'the stock API did not see exactly one token of the right user per get_portfolio call',
    );
    const m1 = await metrics();
    assert.ok(
      (m1.exchanges ?? 0) - (m0.exchanges ?? 0) <= 4,
      'more exchanges than distinct subject tokens: the cache or single-flight leaked across tokens?',
    );
  });
});

describe('security: sessions (stateless server)', () => {
  const initialize = (version: string) => ({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'e2e-security', version: '1.0.0' } },
  });

  for (const version of ['2025-06-18', '2025-11-25']) {
    it(`issues no Mcp-Session-Id on initialize in ${version}`, async () => {
      const token = await trackedUserToken('bob', 'mcp:tools');
      const response = await fetch(stack().urls.mcp, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(initialize(version)),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('mcp-session-id'), null);
      assert.equal(
        ((await response.json()) as { result: { protocolVersion: string } }).result.protocolVersion,
        version,
      );
    });
  }

  it('issues no Mcp-Session-Id on a 2026-07-28 request', async () => {
    const token = await trackedUserToken('bob', 'mcp:tools');
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'e2e-security', version: '1.0.0' },
    };
    const reply = await callMcp(
      token,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: meta } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' },
    );
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.result?.structuredContent?.username, 'bob');
    const response = await fetch(stack().urls.mcp, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${token}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta } }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('mcp-session-id'), null);
  });

  it("answers bob's token with a made-up Mcp-Session-Id with bob's data only, and refuses session streams", async () => {
    const alice = await trackedUserToken('alice', ALL_SCOPES);
    const bob = await trackedUserToken('bob', ALL_SCOPES);
    const aliceSub = String(decodeClaims(alice).sub);
    for (const sessionId of ['made-up-session-0001', aliceSub, '00000000-0000-0000-0000-000000000000']) {
      const who = await callMcp(bob, call('whoami'), { 'mcp-session-id': sessionId });
      assert.equal(who.status, 200);
      assert.equal(who.body.result?.structuredContent?.username, 'bob');
      const portfolio = await callMcp(bob, call('get_portfolio'), { 'mcp-session-id': sessionId });
      assert.equal(
        (portfolio.body.result?.structuredContent?.portfolio as { owner?: { username: string } } | undefined)?.owner
          ?.username,
        'bob',
      );
      assert.ok(!portfolio.text.includes(aliceSub));
    }
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(stack().urls.mcp, {
        method,
        headers: {
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${bob}`,
          'mcp-session-id': 'made-up-session-0001',
          'mcp-protocol-version': '2025-11-25',
        },
      });
      assert.equal(response.status, 405, method);
      assertNothingLeaked(await response.text(), [bob, alice]);
    }
  });
});

describe('security: Origin and Host guards', () => {
  it('answers a disallowed Origin with 403, with or without a token', async () => {
    const token = await trackedUserToken('bob', 'mcp:tools');
    for (const origin of ['http://evil.example', 'null', 'http://localhost.evil.example:13000']) {
      for (const authorization of [`Bearer ${token}`, undefined]) {
        const response = await fetch(stack().urls.mcp, {
          method: 'POST',
          headers: {
            origin,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-11-25',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify(call('whoami')),
        });
        const text = await response.text();
        assert.equal(response.status, 403, `${origin}: ${text}`);
        assert.match(text, /Origin/);
        assertNothingLeaked(text, [token]);
      }
    }
    const allowed = await callMcp(token, call('whoami'), { origin: 'http://localhost:6274' });
    assert.equal(allowed.status, 200, 'a loopback Origin (e.g. the MCP Inspector) is allowed');
  });

  it('refuses a DNS-rebinding Host (attacker.example) on /mcp and on the metadata, even with a valid token', async () => {
    const token = await trackedUserToken('bob', 'mcp:tools');
    const port = new URL(stack().urls.mcp).port;
    for (const host of [`attacker.example:${port}`, 'attacker.example', `localhost.attacker.example:${port}`]) {
      const mcp = await rawHttp({
        rawHeaders: [...jsonRpcHeaders(host), 'Authorization', `Bearer ${token}`],
        body: JSON.stringify(call('whoami')),
      });
      assert.equal(mcp.status, 403, `${host}: ${mcp.body}`);
      assert.match(mcp.body, /Invalid Host/);
      assertNothingLeaked(mcp.body, [token]);
      const prm = await rawHttp({
        method: 'GET',
        path: '/.well-known/oauth-protected-resource/mcp',
        rawHeaders: ['Host', host],
      });
      assert.equal(prm.status, 403, `metadata via ${host}`);
    }
  });
});
