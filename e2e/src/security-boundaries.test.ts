// Security suite, boundaries: no token passthrough, no up-scoping, no path tricks into routes a token may not reach,
// per-user isolation under concurrency, nothing to hijack in a stateless server, Host/Origin guards, and the DCR
// policies. Real tokens from Keycloak throughout; the stock API's /_sandbox/received is the witness downstream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { MCP_SERVER_CLIENT, STOCK_API_AUDIENCE } from '@sandbox/stack';
import { adminApi, decodeClaims, lastRegistrationRefusal } from './harness/keycloak.ts';
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
      authorization: `Basic ${Buffer.from(`${MCP_SERVER_CLIENT.clientId}:${MCP_SERVER_CLIENT.secret}`).toString('base64')}`,
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
        MCP_SERVER_CLIENT.clientId,
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

describe('security: anonymous dynamic client registration', () => {
  const register = (metadata: Record<string, unknown>) =>
    fetch(`${stack().urls.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'e2e security dcr',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:49200/callback'],
        ...metadata,
      }),
    });

  it('refuses registrations beyond the Max Clients policy, naming the policy', async () => {
    const components = (await (
      await adminApi('/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy')
    ).json()) as Array<{
      id: string;
      name: string;
      providerId: string;
      subType: string;
      config: Record<string, string[]>;
    }>;
    const policy = components.find((c) => c.providerId === 'max-clients' && c.subType === 'anonymous');
    assert.ok(policy, 'no anonymous Max Clients policy in the realm');
    const original = policy.config['max-clients'] ?? ['200'];
    const count = ((await (await adminApi('/clients?max=10000')).json()) as unknown[]).length;
    const created: string[] = [];
    try {
      const update = await adminApi(`/components/${policy.id}`, {
        method: 'PUT',
        body: JSON.stringify({ ...policy, config: { ...policy.config, 'max-clients': [String(count + 2)] } }),
      });
      assert.equal(update.status, 204);
      let refusal: Response | undefined;
      for (let i = 0; i < 5 && !refusal; i++) {
        const response = await register({ client_name: `e2e max clients ${i}` });
        if (response.status === 201) created.push(((await response.json()) as { client_id: string }).client_id);
        else refusal = response;
      }
      assert.equal(created.length, 2, 'exactly the two registrations under the limit succeed');
      assert.ok(refusal);
      assert.equal(refusal.status, 403);
      assert.match(await refusal.text(), /Max Clients/);
    } finally {
      await adminApi(`/components/${policy.id}`, {
        method: 'PUT',
        body: JSON.stringify({ ...policy, config: { ...policy.config, 'max-clients': original } }),
      });
      for (const clientId of created) {
        const [client] = (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Array<{
          id: string;
        }>;
        if (client) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
      }
    }
    const restored = (await (await adminApi(`/components/${policy.id}`)).json()) as {
      config: Record<string, string[]>;
    };
    assert.deepEqual(restored.config['max-clients'], original);
  });

  it("accepts what real clients send: mcp-remote's registration as it is, and one with no scope (Claude Code)", async () => {
    const mcpRemote = await register({
      client_name: 'MCP CLI Client',
      redirect_uris: ['http://localhost:3334/oauth/callback'],
      client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      application_type: 'native',
      software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
      software_version: '0.15.1',
      scope: 'mcp:tools portfolio:read trade:read trade:write offline_access',
    });
    assert.equal(mcpRemote.status, 201, await mcpRemote.clone().text());
    const noScope = await register({ redirect_uris: ['http://[::1]:49201/callback'], scope: undefined });
    assert.equal(noScope.status, 201, await noScope.clone().text());
    const registered = (await noScope.json()) as { scope: string };
    assert.ok(registered.scope.split(' ').includes('trade:read'), registered.scope);
  });

  // Each abuse an outside probe found, the metadata that carries it, and the rule Keycloak names in its event.
  const abuses: Array<[string, Record<string, unknown>, RegExp]> = [
    ['https redirect on a foreign host', { redirect_uris: ['https://evil.example/callback'] }, /Invalid Redirect Uri/],
    ['loopback look-alike host', { redirect_uris: ['http://localhost.evil.example/callback'] }, /Invalid Redirect Uri/],
    ['userinfo trick', { redirect_uris: ['http://127.0.0.1:5000@evil.example/callback'] }, /Invalid Redirect Uri/],
    ['host-less redirect "*"', { redirect_uris: ['*'] }, /Invalid Redirect Uri/],
    ['javascript: redirect', { redirect_uris: ['javascript:alert(1)'] }, /Invalid Redirect Uri/],
    ['private-use scheme', { redirect_uris: ['com.example.app:/callback'] }, /Invalid Redirect Uri/],
    ['wildcard redirect', { redirect_uris: ['http://127.0.0.1/*'] }, /Invalid Redirect Uri/],
    ['open redirect after logout', { post_logout_redirect_uris: ['https://evil.example/bye'] }, /Invalid Redirect Uri/],
    [
      'SSRF via sector_identifier_uri',
      { sector_identifier_uri: 'http://169.254.169.254/latest' },
      /sectorIdentifierUri|sector/i,
    ],
    [
      'SSRF via jwks_uri',
      { jwks_uri: 'http://169.254.169.254/jwks', token_endpoint_auth_method: 'private_key_jwt' },
      /jwks/i,
    ],
    ['SSRF via backchannel_logout_uri', { backchannel_logout_uri: 'http://10.0.0.1/logout' }, /backchannelLogoutUrl/],
    ['SSRF via request_uris', { request_uris: ['https://evil.example/request'] }, /requestUris/],
    ['logo_uri that is not https', { logo_uri: 'http://evil.example/logo.png' }, /logoUri/],
    ['policy_uri with a script', { policy_uri: 'javascript:alert(1)' }, /policyUri/],
  ];
  for (const [name, metadata, rule] of abuses) {
    it(`refuses ${name}, and Keycloak's event names the rule`, async () => {
      const response = await register(metadata);
      assert.equal(response.status, 403, `${name}: ${await response.clone().text()}`);
      assert.match(await lastRegistrationRefusal(), rule);
    });
  }

  it('refuses the client_credentials grant to a registrant, so no token stands for nobody', async () => {
    const response = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:tools',
    });
    assert.equal(
      response.status,
      201,
      'Keycloak has no registration-time rule for grant types; the token endpoint refuses',
    );
    const client = (await response.json()) as { client_id: string; client_secret: string };
    const token = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mcp:tools' }),
    });
    assert.equal(token.status, 400);
    assert.deepEqual(await token.json(), { error: 'invalid_request', error_description: 'Request not allowed' });
  });

  it('offers no device grant and no Keycloak-format registration endpoint', async () => {
    const discovery = (await (await fetch(`${stack().urls.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(discovery.device_authorization_endpoint, undefined);
    const device = await register({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] });
    const { client_id } = (await device.json()) as { client_id: string };
    const start = await fetch(`${stack().urls.issuer}/protocol/openid-connect/auth/device`, {
      method: 'POST',
      body: new URLSearchParams({ client_id, scope: 'mcp:tools' }),
    });
    assert.ok(!(await start.text()).includes('device_code'), 'a device code was issued');
    const keycloakFormat = await fetch(`${stack().urls.issuer}/clients-registrations/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: 'e2e-keycloak-format',
        redirectUris: ['http://127.0.0.1/cb'],
        attributes: { 'access.token.lifespan': '99999999' },
      }),
    });
    assert.equal(keycloakFormat.status, 404);
  });

  it('refuses scopes outside the Allowed Client Scopes policy', async () => {
    for (const scope of ['mcp:tools stock-api-audience', 'stock-api-audience']) {
      const response = await register({ scope });
      assert.equal(response.status, 403, scope);
      assert.match(await response.text(), /Allowed Client Scopes/);
    }
  });
});
