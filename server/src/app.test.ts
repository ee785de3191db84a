import { hostname } from 'node:os';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createApp } from './app.ts';
import { createMemoryCache, createRedisCache } from './exchange/cache.ts';
import {
  assertExchangeRequest,
  blockNetwork,
  captureLogs,
  closedPort,
  createTestApp,
  exchangeAnswer,
  fakeKeycloak,
  issuedTokens,
  LEGACY_VERSION,
  legacyRequest,
  linesWithTokens,
  mcpHeaders,
  modernRequest,
  NOW,
  parseChallenge,
  RESOURCE,
  rpc,
  testConfig,
  TRADER_SCOPE,
  userClaims,
  withoutClaim,
  type TestApp,
  type ToolCallResult,
} from './testing.ts';

const PRM = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';

describe('createApp', () => {
  /** Every log line written by any app in this file, checked for tokens at the end. */
  const allLines: string[] = [];
  let t: TestApp;
  let token: string;
  let trader: string;
  let toolsOnly: string;

  before(async () => {
    blockNetwork();
    t = await createTestApp({ lines: allLines });
    token = await t.signer.sign();
    trader = await t.signer.sign(userClaims({ scope: TRADER_SCOPE }));
    toolsOnly = await t.signer.sign(userClaims({ scope: 'mcp:tools' }));
  });
  beforeEach(() => {
    t.tokenEndpoint.requests.length = 0;
    t.tokenEndpoint.reply = (recorded) => exchangeAnswer(t.signer, new URLSearchParams(recorded.body));
    t.stockApi.requests.length = 0;
  });
  after(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    t.app.request(new Request(`http://localhost:3000${path}`, { headers: { host: 'localhost:3000', ...headers } }));
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

  describe('Host and Origin checks', () => {
    it('rejects a disallowed Origin with 403', async () => {
      const response = await t.app.request(
        legacyRequest('tools/list', undefined, { token, headers: { origin: 'https://evil.example' } }),
      );
      assert.equal(response.status, 403);
      assert.match((await rpc(response)).error?.message ?? '', /Invalid Origin/);
    });

    it('allows a request without Origin', async () => {
      assert.equal((await t.app.request(legacyRequest('tools/list', undefined, { token }))).status, 200);
    });

    it('allows a localhost Origin on any port', async () => {
      const response = await t.app.request(
        legacyRequest('tools/list', undefined, { token, headers: { origin: 'http://localhost:6274' } }),
      );
      assert.equal(response.status, 200);
    });

    it('rejects Host evil.example with 403 on every route', async () => {
      const mcp = await t.app.request(
        legacyRequest('tools/list', undefined, { token, headers: { host: 'evil.example' } }),
      );
      assert.equal(mcp.status, 403);
      assert.match((await rpc(mcp)).error?.message ?? '', /Invalid Host: evil\.example/);
      assert.equal((await get('/.well-known/oauth-protected-resource/mcp', { host: 'evil.example' })).status, 403);
      assert.equal((await get('/healthz', { host: 'evil.example:3000' })).status, 403);
    });

    it('rejects a request without Host', async () => {
      const response = await t.app.request(
        new Request(RESOURCE, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: '{}',
        }),
      );
      assert.equal(response.status, 403);
    });

    it("answers a browser client's preflight from a loopback page before any token, and no other origin's", async () => {
      const preflight = (origin: string) =>
        t.app.request(
          new Request(RESOURCE, {
            method: 'OPTIONS',
            headers: {
              host: 'localhost:3000',
              origin,
              'access-control-request-method': 'POST',
              'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
            },
          }),
        );
      const ok = await preflight('http://localhost:6274');
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:6274');
      assert.match(ok.headers.get('access-control-allow-headers') ?? '', /authorization/);
      assert.match(ok.headers.get('access-control-allow-headers') ?? '', /mcp-protocol-version/);
      for (const foreign of ['https://evil.example', 'http://localhost.evil.example', 'null'])
        assert.equal((await preflight(foreign)).headers.get('access-control-allow-origin'), null, foreign);
    });

    it('lets a loopback page read the 401 challenge (WWW-Authenticate exposed)', async () => {
      const response = await t.app.request(
        legacyRequest('tools/list', undefined, { headers: { origin: 'http://127.0.0.1:6274' } }),
      );
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('access-control-allow-origin'), 'http://127.0.0.1:6274');
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /www-authenticate/);
    });

    it('checks Origin before asking for a token', async () => {
      const response = await t.app.request(
        legacyRequest('tools/list', undefined, { headers: { origin: 'https://evil.example' } }),
      );
      assert.equal(response.status, 403);
      assert.equal(response.headers.get('www-authenticate'), null);
    });
  });

  describe('operational routes', () => {
    it('answers /healthz without a token', async () => {
      const response = await get('/healthz');
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: 'ok' });
    });

    it('reports ready when Keycloak answers and the cache works', async () => {
      const response = await get('/readyz');
      assert.equal(response.status, 200);
      const body = (await response.json()) as { status: string; checks: { cache: { kind: string } } };
      assert.equal(body.status, 'ready');
      assert.equal(body.checks.cache.kind, 'memory');
    });

    it('reports degraded (still 200) when Redis is down and unavailable (503) when Keycloak is', async () => {
      const { logger } = captureLogs(allLines);
      const cache = createRedisCache('redis://127.0.0.1:1', 'mcp-unit-app:', () => {});
      const degraded = createApp({
        config: testConfig(),
        keycloak: fakeKeycloak(t.signer.keys, t.tokenEndpoint.url),
        cache,
        logger,
      });
      const down = createApp({
        config: testConfig(),
        keycloak: {
          ...fakeKeycloak(t.signer.keys, t.tokenEndpoint.url),
          probe: async () => ({ ok: false, detail: 'Keycloak unreachable' }),
        },
        cache: createMemoryCache(),
        logger,
      });
      try {
        const readyz = new Request('http://localhost:3000/readyz', { headers: { host: 'localhost:3000' } });
        const first = await degraded.app.request(readyz.clone());
        assert.equal(first.status, 200);
        assert.equal(((await first.json()) as { status: string }).status, 'degraded');
        const second = await down.app.request(readyz.clone());
        assert.equal(second.status, 503);
        assert.equal(((await second.json()) as { status: string }).status, 'unavailable');
      } finally {
        await degraded.close();
        await down.close();
      }
    });

    it('serves counters at /metrics', async () => {
      const response = await get('/metrics');
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.cache, 'memory');
      assert.equal(typeof body.exchanges, 'number');
      assert.deepEqual(body.replica, { host: hostname(), pid: process.pid }, 'which replica answered');
    });

    it('answers an unknown route with a JSON 404 naming the MCP endpoint', async () => {
      const response = await get('/nope');
      assert.equal(response.status, 404);
      assert.match(
        ((await response.json()) as { error_description: string }).error_description,
        /the MCP endpoint is \/mcp/,
      );
    });
  });

  describe('tool scope gate', () => {
    for (const era of ['legacy', 'modern'] as const) {
      it(`answers place_order without trade:write with a 403 step-up challenge (${era})`, async () => {
        const { response } = await callTool('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }, token, era);
        assert.equal(response.status, 403);
        const params = parseChallenge(response.headers.get('www-authenticate'));
        assert.equal(params.error, 'insufficient_scope');
        assert.equal(params.scope, 'mcp:tools portfolio:read trade:read trade:write');
        assert.equal(params.resource_metadata, PRM);
        assert.match(params.error_description ?? '', /place_order needs scope trade:write/);
        assert.equal(t.tokenEndpoint.requests.length, 0);
        assert.equal(t.stockApi.requests.length, 0);
      });
    }

    for (const era of ['legacy', 'modern'] as const) {
      it(`answers place_order for a user without the trader role with a final tool error, no challenge (${era})`, async () => {
        const bob = await t.signer.sign(
          userClaims({ preferred_username: 'bob', realm_access: { roles: ['viewer', 'offline_access'] } }),
        );
        const { response, result } = await callTool(
          'place_order',
          { symbol: 'ACME', side: 'buy', quantity: 1 },
          bob,
          era,
        );
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('www-authenticate'), null);
        assert.equal(result?.isError, true);
        assert.match(
          result?.content[0]?.text ?? '',
          /bob cannot use place_order: .*realm role "trader".*Signing in again will not change this/,
        );
        assert.equal(t.tokenEndpoint.requests.length, 0);
        assert.equal(t.stockApi.requests.length, 0);
      });
    }

    it('keeps the step-up challenge when the token carries no roles claim (nothing proves the refusal final)', async () => {
      const noRoles = await t.signer.sign(withoutClaim('realm_access'));
      const { response } = await callTool('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }, noRoles);
      assert.equal(response.status, 403);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).error, 'insufficient_scope');
    });

    it('lists only the MCP scopes the caller has plus the missing one', async () => {
      const { response } = await callTool('get_portfolio', {}, toolsOnly);
      assert.equal(response.status, 403);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).scope, 'mcp:tools portfolio:read');
    });

    it('gates every tools/call inside a JSON-RPC batch (regression: a batch bypassed the gate)', async () => {
      const batch = [
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'greet', arguments: {} } },
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'place_order', arguments: { symbol: 'ACME', side: 'buy', quantity: 1 } },
        },
      ];
      const response = await t.app.request(
        new Request(RESOURCE, {
          method: 'POST',
          headers: mcpHeaders({ token, headers: { 'mcp-protocol-version': LEGACY_VERSION } }),
          body: JSON.stringify(batch),
        }),
      );
      assert.equal(response.status, 403);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).error, 'insufficient_scope');
      assert.equal(t.stockApi.requests.length, 0);
      assert.equal(t.tokenEndpoint.requests.length, 0);
    });

    for (const [name, args] of [
      ['whoami', {}],
      ['greet', { name: 'Bob' }],
      ['get_datetime', {}],
    ] as const) {
      it(`runs ${name} with only mcp:tools, without an exchange`, async () => {
        const { response, result } = await callTool(name, args, toolsOnly);
        assert.equal(response.status, 200);
        assert.equal(result?.isError, undefined);
        assert.equal(t.tokenEndpoint.requests.length, 0);
      });
    }

    it('reads the frozen clock in get_datetime', async () => {
      const { result } = await callTool('get_datetime', {});
      assert.equal(result?.content[0]?.text, NOW.toISOString());
      assert.equal(result?.structuredContent?.epochMs, NOW.getTime());
    });

    it('shows locked and open tools in whoami', async () => {
      const { result } = await callTool('whoami', {}, toolsOnly);
      assert.match(result?.content[0]?.text ?? '', /locked place_order \(needs trade:write\)/);
      assert.match(result?.content[0]?.text ?? '', /open +greet/);
    });
  });

  describe('tool path: bearer → scope → SDK → tool → exchange → stock API', () => {
    for (const era of ['legacy', 'modern'] as const) {
      it(`exchanges for exactly portfolio:read at stock-api and calls the stock API with the exchanged token (${era})`, async () => {
        const user = await t.signer.sign(); // a fresh token, so the exchange cache is cold
        const { response, result } = await callTool('get_portfolio', {}, user, era);
        assert.equal(response.status, 200);
        assert.equal(result?.isError, undefined);
        assert.match(result?.content[0]?.text ?? '', /Portfolio of alice:\nACME: 10 shares worth 1234\.50/);

        assert.equal(t.tokenEndpoint.requests.length, 1);
        assertExchangeRequest(t.tokenEndpoint.requests[0], { subjectToken: user, scope: 'portfolio:read' });

        assert.equal(t.stockApi.requests.length, 1);
        const downstream = t.stockApi.requests[0];
        assert.ok(downstream);
        assert.equal(downstream.path, '/portfolio');
        const sent = String(downstream.headers.authorization).replace(/^Bearer /, '');
        assert.notEqual(sent, user);
        assert.ok(!JSON.stringify(downstream.headers).includes(user), 'the user token reached the stock API');
        const claims = decodeJwt(sent);
        assert.equal(claims.aud, 'stock-api');
        assert.equal(claims.scope, 'portfolio:read');
      });
    }

    it('serves a second call from the exchange cache', async () => {
      const before = t.tokenEndpoint.requests.length;
      await callTool('get_stock_info', { symbol: 'acme' });
      await callTool('get_stock_info', { symbol: 'ACME' });
      assert.equal(t.tokenEndpoint.requests.length - before, 1);
      assert.equal(t.stockApi.requests.length, 2);
      assert.equal(t.stockApi.requests[0]?.path, '/stocks/ACME');
      assert.equal(new URLSearchParams(t.tokenEndpoint.requests.at(-1)?.body).get('scope'), 'trade:read');
    });

    it('refuses re-spellings of one token (padding, unused low bits of the signature) before any exchange (regression)', async () => {
      const original = await t.signer.sign();
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = original.at(-1) as string;
      // RS256 signatures are 256 bytes: 342 characters carry 2052 bits, so the last character has 4 unused low bits.
      const flipped = original.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
      const before = t.tokenEndpoint.requests.length;
      assert.equal((await callTool('get_stock_info', { symbol: 'ACME' }, original)).response.status, 200);
      for (const spelling of [`${original}==`, flipped]) {
        const { response } = await callTool('get_stock_info', { symbol: 'ACME' }, spelling);
        assert.equal(response.status, 401, 'a re-spelled token verified');
        assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      }
      assert.equal(t.tokenEndpoint.requests.length - before, 1, 'only the canonical spelling reached the exchange');
    });

    it('places an order with a trade:write token, exchanging for trade:write only', async () => {
      const { result } = await callTool('place_order', { symbol: 'acme', side: 'buy', quantity: 5 }, trader);
      assert.equal(result?.isError, undefined);
      assert.match(result?.content[0]?.text ?? '', /Order ord-1: buy 5 ACME/);
      assert.equal(new URLSearchParams(t.tokenEndpoint.requests[0]?.body).get('scope'), 'trade:write');
      const order = t.stockApi.requests[0];
      assert.equal(order?.method, 'POST');
      assert.deepEqual(JSON.parse(order?.body ?? '{}'), { symbol: 'ACME', side: 'buy', quantity: 5 });
    });

    const refusals = [
      {
        status: 403,
        json: { error: 'access_denied', error_description: 'Client is not within the token audience' },
        code: 'subject_not_in_audience',
        hint: /client ID must be the MCP resource URL/,
      },
      {
        status: 400,
        json: { error: 'invalid_request', error_description: 'Requested audience not available: stock-api' },
        code: 'audience_not_available',
        hint: /default client scope stock-api-audience/,
      },
      {
        status: 400,
        json: { error: 'invalid_scope', error_description: 'Invalid scopes: portfolio:read' },
        code: 'scope_refused',
        hint: /realm role/,
      },
      {
        status: 400,
        json: { error: 'invalid_request', error_description: 'Invalid token' },
        code: 'subject_token_invalid',
        hint: /Sign in again/,
      },
    ];
    for (const refusal of refusals) {
      it(`returns an isError result naming what to check for ${refusal.code}`, async () => {
        t.tokenEndpoint.reply = () => ({ status: refusal.status, json: refusal.json });
        const { response, result } = await callTool('get_portfolio', {}, await t.signer.sign());
        assert.equal(response.status, 200);
        assert.equal(result?.isError, true);
        assert.match(result?.content[0]?.text ?? '', /What to do: /);
        assert.match(result?.content[0]?.text ?? '', refusal.hint);
        assert.equal(result?.structuredContent?.error, refusal.code);
        assert.equal(t.stockApi.requests.length, 0);
      });
    }

    it('returns keycloak_unreachable as an isError result when the token endpoint refuses connections', async () => {
      const { logger } = captureLogs(allLines);
      const port = await closedPort();
      const { app, close } = createApp({
        config: testConfig({ STOCK_API_URL: t.stockApi.url }),
        keycloak: fakeKeycloak(t.signer.keys, `http://127.0.0.1:${port}`),
        cache: createMemoryCache(),
        logger,
      });
      try {
        const response = await app.request(
          legacyRequest('tools/call', { name: 'get_portfolio', arguments: {} }, { token }),
        );
        const result = (await rpc<ToolCallResult>(response)).result;
        assert.equal(result?.isError, true);
        assert.equal(result?.structuredContent?.error, 'keycloak_unreachable');
        assert.match(
          result?.content[0]?.text ?? '',
          /Check that Keycloak is running at http:\/\/localhost:8080\/realms\/sandbox/,
        );
      } finally {
        await close();
      }
    });

    it('returns a stock API error as an isError result', async () => {
      const normal = t.stockApi.reply;
      t.stockApi.reply = () => ({ status: 503, json: { error: { code: 'maintenance', message: 'back soon' } } });
      try {
        const { result } = await callTool('search_stocks', { query: 'acme' });
        assert.equal(result?.isError, true);
        assert.equal(result?.structuredContent?.error, 'stock_api_error');
        assert.match(result?.content[0]?.text ?? '', /answered 503 maintenance: back soon/);
      } finally {
        t.stockApi.reply = normal;
      }
    });

    it('returns stock_api_unreachable when the stock API is down', async () => {
      const { logger } = captureLogs(allLines);
      const { app, close } = createApp({
        config: testConfig({ STOCK_API_URL: `http://127.0.0.1:${await closedPort()}` }),
        keycloak: fakeKeycloak(t.signer.keys, t.tokenEndpoint.url),
        cache: createMemoryCache(),
        logger,
      });
      try {
        const result = (
          await rpc<ToolCallResult>(
            await app.request(legacyRequest('tools/call', { name: 'get_portfolio', arguments: {} }, { token })),
          )
        ).result;
        assert.equal(result?.isError, true);
        assert.equal(result?.structuredContent?.error, 'stock_api_unreachable');
      } finally {
        await close();
      }
    });
  });

  describe('logs', () => {
    it('logs requests with ids and token hashes but never a token', async () => {
      await t.app.request(legacyRequest('tools/list', undefined, { token: `${token}x` }));
      await t.app.request(
        legacyRequest(
          'tools/call',
          { name: 'get_portfolio', arguments: {} },
          { token: await t.signer.sign(), headers: { 'x-request-id': 'req-log-check' } },
        ),
      );
      assert.ok(issuedTokens.size > 10);
      assert.ok(allLines.length > 20);
      assert.ok(allLines.some((line) => line.includes('"requestId":"req-log-check"')));
      assert.ok(allLines.some((line) => /"subjectTokenHash":"[0-9a-f]{16}"/.test(line)));
      assert.deepEqual(linesWithTokens(allLines), []);
      assert.ok(!allLines.some((line) => line.includes(`${token}x`)));
    });
  });
});
