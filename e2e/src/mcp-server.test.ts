// Issue 3's proof against the real stack: discovery, every tool for alice and bob over every protocol version,
// isolation, the stock API seeing only exchanged tokens, and one exchange for 50 identical concurrent calls.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { discoverOAuthServerInfo, extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
import { adminApi, decodeClaims, userToken } from './harness/keycloak.ts';
import { CLIENT_LINES, connect, metrics, rawPost, toolCall, type ConnectedClient } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

const ALL = 'mcp:tools portfolio:read trade:read trade:write';

interface Decision {
  accepted: boolean;
  azp: string | null;
  aud: unknown;
  sub: string | null;
  route: string;
  code?: string;
}
async function received(): Promise<Decision[]> {
  return ((await (await fetch(`${stack().urls.stockApi}/_sandbox/received`)).json()) as { decisions: Decision[] })
    .decisions;
}

async function keycloakExchangeEvents(): Promise<number> {
  const response = await adminApi(
    `/events?type=TOKEN_EXCHANGE&client=${encodeURIComponent(stack().urls.mcp)}&max=10000`,
  );
  assert.equal(response.status, 200);
  return ((await response.json()) as unknown[]).length;
}

describe('MCP server: discovery from nothing', () => {
  it('answers an unauthenticated POST with 401 and a challenge the SDK follows to Keycloak', async () => {
    const response = await rawPost({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(response.status, 401);
    const challenge = extractWWWAuthenticateParams(response);
    assert.equal(
      challenge.resourceMetadataUrl?.href,
      `${stack().urls.mcpOrigin}/.well-known/oauth-protected-resource/mcp`,
    );
    // Least privilege: reading only; trade:write comes by step-up.
    assert.equal(challenge.scope, 'mcp:tools portfolio:read trade:read');
    assert.equal(challenge.error, undefined, 'no error code when no token was sent');

    const info = await discoverOAuthServerInfo(stack().urls.mcp, {
      resourceMetadataUrl: challenge.resourceMetadataUrl,
    });
    assert.equal(info.resourceMetadata?.resource, stack().urls.mcp);
    assert.deepEqual(info.resourceMetadata?.authorization_servers, [stack().urls.issuer]);
    assert.ok(!info.resourceMetadata?.scopes_supported?.includes('offline_access'));
    assert.deepEqual(info.resourceMetadata?.scopes_supported, ['mcp:tools', 'portfolio:read', 'trade:read']);
    assert.equal(info.authorizationServerMetadata?.issuer, stack().urls.issuer);
    assert.equal(
      info.authorizationServerMetadata?.registration_endpoint,
      `${stack().urls.issuer}/clients-registrations/openid-connect`,
    );
    assert.ok(info.authorizationServerMetadata?.code_challenge_methods_supported?.includes('S256'));
  });

  it("serves Keycloak's metadata at its own origin for clients that predate RFC 9728", async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const response = await fetch(`${stack().urls.mcpOrigin}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(((await response.json()) as { issuer: string }).issuer, stack().urls.issuer, path);
    }
  });

  it('rejects a token sent with the wrong audience with invalid_token', async () => {
    const response = await rawPost(
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { authorization: 'Bearer not.a.jwt' },
    );
    assert.equal(response.status, 401);
    assert.equal(extractWWWAuthenticateParams(response).error, 'invalid_token');
  });
});

for (const line of CLIENT_LINES) {
  describe(`MCP server with the SDK client ${line}`, () => {
    let alice: ConnectedClient;
    let bob: ConnectedClient;
    before(async () => {
      alice = await connect(line, await userToken('alice', ALL));
      bob = await connect(line, await userToken('bob', ALL));
    });
    after(async () => {
      await alice?.close();
      await bob?.close();
    });

    it('negotiates the protocol version it asked for', () => {
      const expected = line.split(' @ ')[1];
      assert.equal(alice.protocolVersion(), expected);
    });

    it('lists all seven tools with their required scopes', async () => {
      const tools = await alice.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [
        'get_datetime',
        'get_portfolio',
        'get_stock_info',
        'greet',
        'place_order',
        'search_stocks',
        'whoami',
      ]);
      assert.deepEqual(tools.find((t) => t.name === 'place_order')?._meta?.['sandbox/requiredScopes'], ['trade:write']);
    });

    it("returns alice's quote, search, portfolio and places her order", async () => {
      const quote = await alice.callTool('get_stock_info', { symbol: 'ACME' });
      assert.ok(!quote.isError, JSON.stringify(quote));
      assert.match(quote.content[0]?.text ?? '', /^ACME \(Acme Corporation\)/);
      const search = await alice.callTool('search_stocks', { query: 'tech' });
      assert.ok(!search.isError);
      assert.ok(((search.structuredContent?.results as unknown[]) ?? []).length > 0);
      const portfolio = await alice.callTool('get_portfolio');
      assert.equal(
        (portfolio.structuredContent?.portfolio as { owner?: { username: string } } | undefined)?.owner?.username,
        'alice',
      );
      const order = await alice.callTool('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 });
      assert.ok(!order.isError, JSON.stringify(order));
      assert.match(order.content[0]?.text ?? '', /buy 1 ACME/);
    });

    it('answers whoami, greet and get_datetime for any valid token', async () => {
      const who = await bob.callTool('whoami');
      assert.equal(who.structuredContent?.username, 'bob');
      const tools = who.structuredContent?.tools as Array<{ name: string; allowed: boolean }>;
      assert.equal(tools.find((t) => t.name === 'place_order')?.allowed, false);
      assert.equal(tools.find((t) => t.name === 'get_portfolio')?.allowed, true);
      assert.match((await bob.callTool('greet')).content[0]?.text ?? '', /Hello, bob/);
      const time = await bob.callTool('get_datetime');
      assert.ok(Math.abs(Date.parse(String(time.structuredContent?.iso)) - Date.now()) < 60_000);
    });

    it('gives bob his own portfolio and refuses his order with a final tool error naming the trader role', async () => {
      const portfolio = await bob.callTool('get_portfolio');
      assert.equal(
        (portfolio.structuredContent?.portfolio as { owner?: { username: string } } | undefined)?.owner?.username,
        'bob',
      );
      const order = await bob.callTool('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 });
      assert.equal(order.isError, true);
      assert.match(order.content[0]?.text ?? '', /bob cannot use place_order: .*"trader"/);
    });
  });
}

describe('MCP server: challenges, isolation and what reaches the stock API', () => {
  it('answers a tool call lacking its scope with 403 naming every scope the call needs', async () => {
    const token = await userToken('alice', 'trade:read');
    const response = await rawPost(toolCall('get_portfolio'), { authorization: `Bearer ${token}` });
    assert.equal(response.status, 403);
    const challenge = extractWWWAuthenticateParams(response);
    assert.equal(challenge.error, 'insufficient_scope');
    assert.deepEqual(new Set(challenge.scope?.split(' ')), new Set(['mcp:tools', 'trade:read', 'portfolio:read']));
    assert.equal(
      challenge.resourceMetadataUrl?.href,
      `${stack().urls.mcpOrigin}/.well-known/oauth-protected-resource/mcp`,
    );
  });

  it('gives alice and bob, calling get_portfolio concurrently, only their own holdings', async () => {
    const [aliceToken, bobToken] = await Promise.all([userToken('alice', ALL), userToken('bob', ALL)]);
    const subs = { alice: decodeClaims(aliceToken).sub, bob: decodeClaims(bobToken).sub };
    const calls = Array.from({ length: 20 }, (_, i) => {
      const who = i % 2 === 0 ? 'alice' : 'bob';
      return rawPost(toolCall('get_portfolio', {}, i), {
        authorization: `Bearer ${who === 'alice' ? aliceToken : bobToken}`,
      }).then(async (r) => ({
        who,
        body: (await r.json()) as { result: { structuredContent: { portfolio: { owner: { sub: string } } } } },
      }));
    });
    for (const { who, body } of await Promise.all(calls)) {
      assert.equal(
        body.result.structuredContent.portfolio.owner.sub,
        subs[who as 'alice' | 'bob'],
        `${who} got someone else's portfolio`,
      );
    }
  });

  it('sends the stock API only exchanged tokens, and the stock API rejects the MCP token sent straight to it', async () => {
    const token = await userToken('alice', ALL);
    const before = (await received()).length;
    const result = await rawPost(toolCall('get_stock_info', { symbol: 'HOOLI' }), { authorization: `Bearer ${token}` });
    assert.equal(result.status, 200);
    const direct = await fetch(`${stack().urls.stockApi}/stocks/HOOLI`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(direct.status, 401);
    const decisions = await received();
    assert.ok(decisions.length > before);
    const accepted = decisions.filter((d) => d.accepted);
    assert.ok(accepted.length > 0);
    for (const decision of accepted)
      assert.equal(decision.azp, stack().urls.mcp, 'an accepted token was not minted by exchange for the MCP server');
    const rejected = decisions.find((d) => !d.accepted && d.azp === 'e2e-harness');
    assert.equal(rejected?.code, 'wrong_audience');
  });

  it('costs one exchange at Keycloak for 50 concurrent identical calls, and exchanges again after expiry', async () => {
    const token = await userToken('alice', ALL);
    const m0 = await metrics();
    const events0 = await keycloakExchangeEvents();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        rawPost(toolCall('get_stock_info', { symbol: 'ACME' }, i), { authorization: `Bearer ${token}` }),
      ),
    );
    assert.ok(responses.every((r) => r.status === 200));
    const m1 = await metrics();
    assert.equal(m1.exchanges - m0.exchanges, 1, 'server counted more than one exchange');
    assert.equal((await keycloakExchangeEvents()) - events0, 1, 'Keycloak recorded more than one TOKEN_EXCHANGE event');
    assert.equal(m1.cacheHits - m0.cacheHits + m1.singleFlightJoins - m0.singleFlightJoins, 49);

    // Cached until (lifespan - skew) seconds; the e2e stack sets lifespan 45 s and skew 35 s.
    const client = (await (
      await adminApi(`/clients?clientId=${encodeURIComponent(stack().urls.mcp)}`)
    ).json()) as Array<{
      attributes: Record<string, string>;
    }>;
    const lifespan = Number(client[0]?.attributes['access.token.lifespan'] ?? 300);
    const waitSeconds = lifespan - m1.cacheSkewSeconds + 1;
    assert.ok(waitSeconds <= 20, `the cache lives ${waitSeconds} s here; run through make e2e, which shortens it`);
    await sleep(waitSeconds * 1000);
    const again = await rawPost(toolCall('get_stock_info', { symbol: 'ACME' }), { authorization: `Bearer ${token}` });
    assert.equal(again.status, 200);
    assert.equal(
      (await metrics()).exchanges - m1.exchanges,
      1,
      'expected a fresh exchange after the cached token expired',
    );
  });
});
