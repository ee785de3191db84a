import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DownstreamError } from '../errors.ts';
import type { Exchanger, ExchangeRequest } from '../exchange/exchanger.ts';
import { createMetrics } from '../metrics.ts';
import { ALICE, blockNetwork, closedPort, startFakeServer, type FakeServer } from '../testing.ts';
import type { Principal } from '../auth/verify.ts';
import { createHttpClient } from './http.ts';
import { createStockApi } from './stock-api.ts';

const principal: Principal = {
  sub: ALICE,
  username: 'alice',
  clientId: 'mcp-cli',
  scopes: ['mcp:tools'],
  jti: 'j',
  sessionId: 'session-1',
  machine: false,
  roles: undefined,
  exp: 0,
  tokenHash: '0123456789abcdef',
  tokenSha256: 'full-hash-a',
};

describe('createStockApi', () => {
  let api: FakeServer;
  const exchanges: ExchangeRequest[] = [];
  const exchanger: Exchanger = {
    exchange: async (request) => {
      exchanges.push(request);
      return { accessToken: 'exchanged-token', cache: 'miss' };
    },
  };

  before(async () => {
    blockNetwork();
    api = await startFakeServer(() => ({ json: { ok: true } }));
  });
  after(() => api.close());

  it('never sends a request to an https URL over plain HTTP (the token would travel in clear text to port 80)', async () => {
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    const client = createHttpClient();
    try {
      await assert.rejects(
        client.send(new URL(`https://127.0.0.1:${port}/orders`), {
          method: 'POST',
          headers: { authorization: 'Bearer secret' },
          body: '{}',
          timeoutMs: 1000,
        }),
        /plain HTTP only, not https:/,
      );
      assert.equal(connections, 0);
    } finally {
      client.close();
      listener.close();
    }
  });

  it('exchanges for the call scope and sends only the exchanged token', async () => {
    const metrics = createMetrics();
    const stock = createStockApi({ baseUrl: api.url, audience: 'stock-api', timeoutMs: 1000, exchanger, metrics });
    const { data } = await stock.call<{ ok: boolean }>({
      principal,
      subjectToken: 'user-token',
      scope: 'trade:write',
      method: 'POST',
      path: '/orders',
      body: { a: 1 },
    });
    assert.deepEqual(data, { ok: true });
    assert.deepEqual(exchanges.at(-1), {
      subjectToken: 'user-token',
      audience: 'stock-api',
      scope: 'trade:write',
      sub: ALICE,
      tokenHash: principal.tokenHash,
      subjectSha256: principal.tokenSha256,
    });
    const sent = api.requests.at(-1);
    assert.equal(sent?.headers.authorization, 'Bearer exchanged-token');
    assert.equal(sent?.headers['content-type'], 'application/json');
    assert.equal(sent?.body, '{"a":1}');
    assert.equal(metrics.downstreamCalls, 1);
  });

  it('turns a 403 into stock_api_rejected with the API message', async () => {
    api.reply = () => ({ status: 403, json: { error: { code: 'insufficient_scope', message: 'needs trade:write' } } });
    const stock = createStockApi({
      baseUrl: api.url,
      audience: 'stock-api',
      timeoutMs: 1000,
      exchanger,
      metrics: createMetrics(),
    });
    await assert.rejects(
      stock.call({ principal, subjectToken: 't', scope: 'trade:read', path: '/x' }),
      (error: unknown) =>
        error instanceof DownstreamError &&
        error.code === 'stock_api_rejected' &&
        error.status === 403 &&
        /403 insufficient_scope: needs trade:write/.test(error.message),
    );
  });

  it('turns a slow answer into stock_api_timeout', async () => {
    api.reply = () => ({ json: {}, delayMs: 300 });
    const stock = createStockApi({
      baseUrl: api.url,
      audience: 'stock-api',
      timeoutMs: 50,
      exchanger,
      metrics: createMetrics(),
    });
    await assert.rejects(
      stock.call({ principal, subjectToken: 't', scope: 'trade:read', path: '/x' }),
      (error: unknown) => error instanceof DownstreamError && error.code === 'stock_api_timeout',
    );
  });

  it('turns connection refused into stock_api_unreachable', async () => {
    const stock = createStockApi({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      audience: 'stock-api',
      timeoutMs: 1000,
      exchanger,
      metrics: createMetrics(),
    });
    await assert.rejects(
      stock.call({ principal, subjectToken: 't', scope: 'trade:read', path: '/x' }),
      (error: unknown) => error instanceof DownstreamError && error.code === 'stock_api_unreachable',
    );
  });
});
