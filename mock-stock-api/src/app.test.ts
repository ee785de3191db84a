import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import type { Hono } from 'hono';
import type { AuthEnv } from './middleware.ts';
import { createAccounts } from './accounts.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { LogEntry } from './log.ts';
import {
  ALICE,
  BOB,
  bearer,
  blockNetwork,
  createSigner,
  createTestApp,
  exchangedClaims,
  mcpClientClaims,
  NOW,
  NOW_SECONDS,
  unsignedToken,
} from './testing.ts';
import type { Signer } from './testing.ts';

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string> } };

describe('createApp', () => {
  let signer: Signer;
  let app: Hono<AuthEnv>;
  let logs: LogEntry[];
  let token: string;

  before(async () => {
    blockNetwork();
    signer = await createSigner();
    token = await signer.sign();
  });
  beforeEach(() => {
    ({ app, logs } = createTestApp(signer.keys));
  });

  /** GET with the default token; pass null for no Authorization header. */
  const get = (path: string, tok: string | null = token) => app.request(path, tok === null ? {} : bearer(tok));
  const post = (body: string, tok = token) =>
    app.request('/orders', {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
    });
  const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;
  const challenge = (res: Response) => res.headers.get('www-authenticate') ?? '';

  describe('rejections', () => {
    it('rejects a request without an Authorization header with a bare challenge', async () => {
      const res = await get('/portfolio', null);
      assert.equal(res.status, 401);
      assert.equal(challenge(res), 'Bearer realm="stock-api"');
      assert.equal((await errorOf(res)).code, 'missing_token');
    });

    it('rejects a non-Bearer scheme', async () => {
      const res = await app.request('/portfolio', { headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } });
      assert.equal(res.status, 401);
      assert.match((await errorOf(res)).message, /scheme "Basic" is not supported/);
    });

    it('ignores a token in the access_token query parameter and answers 401', async () => {
      const res = await get(`/portfolio?access_token=${token}`, null);
      assert.equal(res.status, 401);
      const error = await errorOf(res);
      assert.equal(error.code, 'missing_token');
      assert.match(error.message, /query string are not accepted/);
    });

    it('rejects comma-joined Authorization values with 400 invalid_request', async () => {
      const res = await app.request('/portfolio', { headers: { authorization: `Bearer ${token}, Bearer ${token}` } });
      assert.equal(res.status, 400);
      assert.match(challenge(res), /error="invalid_request"/);
      assert.equal((await errorOf(res)).code, 'malformed_authorization');
    });

    const invalidCases: Array<[string, () => Promise<string>, string, RegExp]> = [
      ['a malformed token', async () => 'abc.def.ghi', 'invalid_token', /malformed/],
      [
        'a token signed by an unknown key',
        async () => (await createSigner('other')).sign(),
        'invalid_token',
        /not signed by a key/,
      ],
      ['an alg none token', async () => unsignedToken(), 'invalid_token', /algorithm/],
      ['an expired token', () => signer.sign(exchangedClaims({ exp: NOW_SECONDS - 60 })), 'invalid_token', /expired/],
      [
        'a token from another issuer',
        () => signer.sign(exchangedClaims({ iss: 'http://evil.test/realms/sandbox' })),
        'invalid_token',
        /"iss" must be/,
      ],
      ['an ID token', () => signer.sign(exchangedClaims({ typ: 'ID' })), 'wrong_token_type', /"typ" must be "Bearer"/],
      [
        'a refresh token',
        () => signer.sign(exchangedClaims({ typ: 'Refresh' })),
        'wrong_token_type',
        /"typ" must be "Bearer"/,
      ],
      ['a token without sub', () => signer.sign(exchangedClaims({ sub: undefined })), 'invalid_token', /"sub"/],
      [
        'a token for stock-api not obtained by mcp-server',
        () => signer.sign(exchangedClaims({ azp: 'mcp-cli' })),
        'not_exchanged',
        /must be "http:\/\/localhost:3000\/mcp"/,
      ],
    ];
    for (const [name, make, code, message] of invalidCases) {
      it(`rejects ${name} with 401 ${code}`, async () => {
        const res = await get('/portfolio', await make());
        assert.equal(res.status, 401);
        const error = await errorOf(res);
        assert.equal(error.code, code);
        assert.match(error.message, message);
        assert.match(challenge(res), /^Bearer realm="stock-api", error="invalid_token", error_description="/);
      });
    }

    it("rejects the user's own MCP token as wrong_audience, explaining why in body and challenge", async () => {
      const res = await get('/portfolio', await signer.sign(mcpClientClaims()));
      assert.equal(res.status, 401);
      const error = await errorOf(res);
      assert.equal(error.code, 'wrong_audience');
      assert.match(
        error.message,
        /^Wrong audience: this is the MCP server's token \(aud: "http:\/\/localhost:3000\/mcp"; azp: "mcp-cli"\)/,
      );
      assert.match(
        error.message,
        /obtained by token exchange \(RFC 8693\) for audience "stock-api"\. Never pass the client's token downstream\.$/,
      );
      assert.match(challenge(res), /error_description="Wrong audience: this is the MCP server's token \(aud: 'http/);
    });

    const scopeCases: Array<[string, string, string, string]> = [
      ['GET', '/stocks/ACME', 'trade:read', 'profile portfolio:read trade:write'],
      ['GET', '/stocks?q=acme', 'trade:read', 'profile portfolio:read trade:write'],
      ['GET', '/orders', 'trade:read', 'profile portfolio:read trade:write'],
      ['POST', '/orders', 'trade:write', 'profile portfolio:read trade:read'],
      ['GET', '/portfolio', 'portfolio:read', 'profile trade:read trade:write'],
    ];
    for (const [method, path, needed, has] of scopeCases) {
      it(`rejects ${method} ${path} without ${needed} with 403 naming the scope`, async () => {
        const tok = await signer.sign(exchangedClaims({ scope: has }));
        const res = await app.request(path, {
          method,
          headers: { authorization: `Bearer ${tok}` },
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        assert.equal(res.status, 403);
        const error = await errorOf(res);
        assert.equal(error.code, 'insufficient_scope');
        assert.match(error.message, new RegExp(`requires scope "${needed}"`));
        assert.match(challenge(res), new RegExp(`error="insufficient_scope", scope="${needed}"`));
      });
    }
  });

  describe('routes', () => {
    it('answers /healthz without auth', async () => {
      const res = await app.request('/healthz');
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });

    it('returns a quote for a known symbol, case-insensitive', async () => {
      const res = await get('/stocks/acme');
      assert.equal(res.status, 200);
      const quote = (await res.json()) as Record<string, unknown>;
      assert.equal(quote.symbol, 'ACME');
      assert.equal(quote.currency, 'USD');
      assert.equal(typeof quote.price, 'number');
      assert.equal(typeof quote.change, 'number');
    });

    it('returns 404 unknown_symbol saying how to search', async () => {
      const res = await get('/stocks/NOPE');
      assert.equal(res.status, 404);
      const error = await errorOf(res);
      assert.equal(error.code, 'unknown_symbol');
      assert.match(error.message, /GET \/stocks\?q=/);
    });

    it('searches by symbol or name', async () => {
      const res = await get('/stocks?q=corp');
      assert.equal(res.status, 200);
      const body = (await res.json()) as { results: Array<{ symbol: string }> };
      assert.deepEqual(
        body.results.map((r) => r.symbol),
        ['ACME', 'GLOBX', 'TYRL', 'OSCP'],
      );
    });

    it('rejects a search without q with 400', async () => {
      for (const path of ['/stocks', '/stocks?q=', '/stocks?q=%20']) {
        const res = await get(path);
        assert.equal(res.status, 400);
        assert.equal((await errorOf(res)).code, 'invalid_request');
      }
    });

    it('returns the same portfolio for the same sub and a different one for another sub', async () => {
      const alice1 = await (await get('/portfolio')).json();
      const alice2 = await (await createTestApp(signer.keys).app.request('/portfolio', bearer(token))).json();
      const bob = await (
        await get('/portfolio', await signer.sign(exchangedClaims({ sub: BOB, preferred_username: 'bob' })))
      ).json();
      assert.deepEqual(alice1, alice2);
      assert.notDeepEqual((alice1 as { holdings: unknown }).holdings, (bob as { holdings: unknown }).holdings);
      assert.deepEqual((alice1 as { owner: unknown }).owner, { sub: ALICE, username: 'alice' });
      assert.deepEqual((bob as { owner: unknown }).owner, { sub: BOB, username: 'bob' });
    });

    it('places a market order and updates the portfolio', async () => {
      type Portfolio = { cash: number; holdings: Array<{ symbol: string; quantity: number }> };
      const before = (await (await get('/portfolio')).json()) as Portfolio;
      const res = await post(JSON.stringify({ symbol: 'pieDP', side: 'buy', quantity: 10 }));
      assert.equal(res.status, 201);
      const order = (await res.json()) as Record<string, unknown>;
      assert.equal(order.status, 'filled');
      assert.equal(order.symbol, 'PIEDP');
      assert.equal(order.timestamp, '2026-01-15T12:00:00.000Z');
      assert.match(String(order.id), /^ord_/);
      const after = (await (await get('/portfolio')).json()) as Portfolio;
      const held = (p: Portfolio) => p.holdings.find((h) => h.symbol === 'PIEDP')?.quantity ?? 0;
      assert.equal(held(after), held(before) + 10);
      assert.equal(after.cash, Math.round((before.cash - 98.1) * 100) / 100);
    });

    it('accepts an unreachable limit order without touching the portfolio', async () => {
      const before = await (await get('/portfolio')).json();
      const res = await post(JSON.stringify({ symbol: 'ACME', side: 'buy', quantity: 1, limit_price: 1 }));
      assert.equal(res.status, 201);
      assert.equal(((await res.json()) as { status: string }).status, 'accepted');
      assert.deepEqual(await (await get('/portfolio')).json(), before);
    });

    it('lists orders per user only', async () => {
      const bobToken = await signer.sign(exchangedClaims({ sub: BOB }));
      await post(JSON.stringify({ symbol: 'ACME', side: 'buy', quantity: 1 }));
      await post(JSON.stringify({ symbol: 'HOOLI', side: 'buy', quantity: 2, limit_price: 1 }), bobToken);
      const alice = (await (await get('/orders')).json()) as { orders: Array<{ symbol: string }> };
      const bob = (await (await get('/orders', bobToken)).json()) as { orders: Array<{ symbol: string }> };
      assert.deepEqual(
        alice.orders.map((o) => o.symbol),
        ['ACME'],
      );
      assert.deepEqual(
        bob.orders.map((o) => o.symbol),
        ['HOOLI'],
      );
    });

    it('rejects bad order bodies with field-level messages', async () => {
      const cases: Array<[unknown, Record<string, string>]> = [
        [{ side: 'buy', quantity: 1 }, { symbol: 'is required' }],
        [{ symbol: 'ACME', side: 'hold', quantity: 1 }, { side: 'must be "buy" or "sell"' }],
        [{ symbol: 'ACME', side: 'buy', quantity: 0 }, { quantity: 'must be positive' }],
        [{ symbol: 'ACME', side: 'buy', quantity: 1.5 }, { quantity: 'must be an integer' }],
        [{ symbol: 'ACME', side: 'buy', quantity: 10001 }, { quantity: 'must be at most 10000' }],
        [{ symbol: 'ACME', side: 'buy', quantity: '5' }, { quantity: 'must be a number' }],
        [{ symbol: 'ACME', side: 'buy', quantity: 1, limit_price: -2 }, { limit_price: 'must be positive' }],
        [{ symbol: 'ACME', side: 'buy', quantity: 1, price: 3 }, { price: 'is not a recognized field' }],
        [[1, 2], { '(body)': 'must be a JSON object' }],
      ];
      for (const [body, fields] of cases) {
        const res = await post(JSON.stringify(body));
        assert.equal(res.status, 400, JSON.stringify(body));
        const error = await errorOf(res);
        assert.equal(error.code, 'invalid_order');
        assert.deepEqual(error.fields, fields);
      }
    });

    it('rejects malformed JSON with 400 invalid_json', async () => {
      const res = await post('{"symbol": ');
      assert.equal(res.status, 400);
      assert.equal((await errorOf(res)).code, 'invalid_json');
    });

    it('rejects an order for an unknown symbol, and a sell beyond holdings', async () => {
      assert.equal(
        (await errorOf(await post(JSON.stringify({ symbol: 'NOPE', side: 'buy', quantity: 1 })))).code,
        'unknown_symbol',
      );
      const sell = await post(JSON.stringify({ symbol: 'ACME', side: 'sell', quantity: 10000 }));
      assert.equal(sell.status, 422);
      assert.equal((await errorOf(sell)).code, 'insufficient_holdings');
    });

    it('answers an unexpected error with a 500 JSON body without the stack', async () => {
      const broken = createApp({
        config: loadConfig({}),
        keys: signer.keys,
        now: () => NOW,
        accounts: {
          ...createAccounts(),
          portfolio: () => {
            throw new Error('database exploded at /srv/secret.ts:42');
          },
        },
      });
      const res = await broken.request('/portfolio', bearer(token));
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: { code: 'internal_error', message: 'Internal server error.' } });
    });

    it('answers an unknown route with 404 JSON', async () => {
      const res = await app.request('/nope');
      assert.equal(res.status, 404);
      assert.equal((await errorOf(res)).code, 'not_found');
    });
  });

  describe('/_sandbox/received', () => {
    it('records accepted and rejected decisions without any token text', async () => {
      const mcpToken = await signer.sign(mcpClientClaims({ jti: 'jti-mcp' }));
      await get('/portfolio');
      await get('/portfolio', mcpToken);
      await get('/portfolio', await signer.sign(exchangedClaims({ scope: 'profile', jti: 'jti-noscope' })));
      await get('/portfolio', null);
      const res = await app.request('/_sandbox/received');
      assert.equal(res.status, 200);
      const text = await res.text();
      for (const t of [token, mcpToken]) {
        for (const part of t.split('.')) assert.ok(!text.includes(part), 'response contains token text');
      }
      const { count, decisions } = JSON.parse(text) as { count: number; decisions: Array<Record<string, unknown>> };
      assert.equal(count, 4);
      assert.deepEqual(
        decisions.map((d) => [d.route, d.accepted, d.code ?? null, d.jti]),
        [
          ['GET /portfolio', true, null, 'jti-0001'],
          ['GET /portfolio', false, 'wrong_audience', 'jti-mcp'],
          ['GET /portfolio', false, 'insufficient_scope', 'jti-noscope'],
          ['GET /portfolio', false, 'missing_token', null],
        ],
      );
      const [accepted, rejected] = decisions;
      assert.deepEqual(accepted, {
        at: '2026-01-15T12:00:00.000Z',
        route: 'GET /portfolio',
        accepted: true,
        jti: 'jti-0001',
        sub: ALICE,
        azp: 'http://localhost:3000/mcp',
        aud: ['stock-api'],
        scope: 'profile portfolio:read trade:read trade:write',
        tokenSha256Prefix: accepted?.tokenSha256Prefix,
      });
      assert.match(String(accepted?.tokenSha256Prefix), /^[0-9a-f]{16}$/);
      assert.deepEqual(rejected?.aud, ['http://localhost:3000/mcp']);
      assert.equal(rejected?.azp, 'mcp-cli');
    });

    it('keeps only the last 2000 decisions (a room of 40 attendees, several calls each)', async () => {
      for (let i = 0; i < 2005; i++) await get('/orders', null);
      const body = (await (await app.request('/_sandbox/received')).json()) as { count: number };
      assert.equal(body.count, 2000);
    });
  });

  describe('logging', () => {
    it('logs one line per request with jti, sub, azp, route and status, never the token or query', async () => {
      await get('/portfolio');
      await get(`/stocks?q=acme&access_token=${token}`, null);
      assert.equal(logs.length, 2);
      assert.deepEqual(
        { ...logs[0], at: undefined, ms: undefined },
        {
          at: undefined,
          ms: undefined,
          level: 'info',
          msg: 'request',
          method: 'GET',
          route: '/portfolio',
          status: 200,
          jti: 'jti-0001',
          sub: ALICE,
          azp: 'http://localhost:3000/mcp',
        },
      );
      assert.equal(logs[1]?.route, '/stocks');
      const text = JSON.stringify(logs);
      for (const part of token.split('.')) assert.ok(!text.includes(part), 'log contains token text');
    });
  });
});
