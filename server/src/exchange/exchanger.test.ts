import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ExchangeError } from '../errors.ts';
import { tokenHash } from '../log.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import {
  ALICE,
  assertExchangeRequest,
  blockNetwork,
  captureLogs,
  CLIENT_ID,
  closedPort,
  createSigner,
  exchangeAnswer,
  fakeKeycloak,
  ISSUER,
  linesWithTokens,
  startTokenEndpoint,
  userClaims,
  type FakeServer,
  type Signer,
} from '../testing.ts';
import { createMemoryCache, createNoCache, type TokenCache } from './cache.ts';
import { createExchanger, type ExchangeRequest, type Exchanger } from './exchanger.ts';

interface Setup {
  exchanger: Exchanger;
  metrics: Metrics;
  lines: string[];
}

describe('createExchanger', () => {
  let signer: Signer;
  let endpoint: FakeServer;
  let subjectToken: string;
  let request: ExchangeRequest;
  let clock: number;
  const allLines: string[] = [];

  function setup(options: { cache?: TokenCache; tokenEndpointUrl?: string; skew?: number } = {}): Setup {
    const metrics = createMetrics();
    const { logger, lines } = captureLogs();
    const exchanger = createExchanger({
      keycloak: fakeKeycloak(signer.keys, options.tokenEndpointUrl ?? endpoint.url),
      cache: options.cache ?? createMemoryCache(),
      metrics,
      logger,
      clientId: CLIENT_ID,
      issuer: ISSUER,
      cacheSkewSeconds: options.skew ?? 30,
      now: () => clock,
    });
    allLines.push(...lines);
    return { exchanger, metrics, lines };
  }

  before(async () => {
    blockNetwork();
    signer = await createSigner();
    endpoint = await startTokenEndpoint(signer);
  });
  beforeEach(async () => {
    endpoint.requests.length = 0;
    endpoint.reply = (recorded) => exchangeAnswer(signer, new URLSearchParams(recorded.body), 120);
    clock = Date.now();
    subjectToken = await signer.sign();
    request = {
      subjectToken,
      audience: 'stock-api',
      scope: 'portfolio:read',
      sub: ALICE,
      tokenHash: tokenHash(subjectToken),
    };
  });
  after(async () => {
    assert.deepEqual(linesWithTokens(allLines), []);
    await endpoint.close();
  });

  it('sends an RFC 8693 request with client_secret_basic and returns the exchanged token', async () => {
    const { exchanger, metrics, lines } = setup();
    const result = await exchanger.exchange(request);
    assert.equal(result.cache, 'miss');
    assert.equal(endpoint.requests.length, 1);
    const sent = endpoint.requests[0];
    assert.ok(sent);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/realms/sandbox/protocol/openid-connect/token');
    assert.match(String(sent.headers['content-type']), /application\/x-www-form-urlencoded/);
    assertExchangeRequest(sent, { subjectToken, scope: 'portfolio:read' });
    assert.notEqual(result.accessToken, subjectToken);
    assert.equal(metrics.exchanges, 1);
    assert.ok(lines.some((line) => line.includes('"msg":"token exchanged"')));
  });

  it('serves the second identical call from the cache', async () => {
    const { exchanger, metrics } = setup();
    const first = await exchanger.exchange(request);
    const second = await exchanger.exchange(request);
    assert.equal(second.cache, 'hit');
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(endpoint.requests.length, 1);
    assert.equal(metrics.cacheHits, 1);
    assert.equal(metrics.cacheMisses, 1);
  });

  it('exchanges separately per scope and per subject token', async () => {
    const { exchanger } = setup();
    await exchanger.exchange(request);
    await exchanger.exchange({ ...request, scope: 'trade:read' });
    const otherToken = await signer.sign(userClaims());
    await exchanger.exchange({ ...request, subjectToken: otherToken, tokenHash: tokenHash(otherToken) });
    assert.equal(endpoint.requests.length, 3);
  });

  it('joins 50 concurrent identical calls onto one exchange', async () => {
    endpoint.reply = async (recorded) => ({
      ...(await exchangeAnswer(signer, new URLSearchParams(recorded.body), 120)),
      delayMs: 50,
    });
    const { exchanger, metrics } = setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => exchanger.exchange(request)));
    assert.equal(endpoint.requests.length, 1);
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
    assert.equal(results.filter((r) => r.cache === 'miss').length, 1);
    assert.equal(results.filter((r) => r.cache === 'joined').length, 49);
    assert.equal(metrics.singleFlightJoins, 49);
    assert.equal(metrics.exchanges, 1);
  });

  it('exchanges again once the cached token is within the skew of its expiry', async () => {
    const { exchanger } = setup({ skew: 30 });
    const first = await exchanger.exchange(request); // expires_in 120: usable until +90 s
    clock += 60_000;
    assert.equal((await exchanger.exchange(request)).cache, 'hit');
    clock += 31_000;
    const renewed = await exchanger.exchange(request);
    assert.equal(renewed.cache, 'miss');
    assert.notEqual(renewed.accessToken, first.accessToken);
    assert.equal(endpoint.requests.length, 2);
  });

  it('exchanges on every call when the cache is off', async () => {
    const { exchanger, metrics } = setup({ cache: createNoCache() });
    assert.equal((await exchanger.exchange(request)).cache, 'off');
    assert.equal((await exchanger.exchange(request)).cache, 'off');
    assert.equal(endpoint.requests.length, 2);
    assert.equal(metrics.cacheMisses, 0);
  });

  it('refuses a token Keycloak issued without the requested scope', async () => {
    endpoint.reply = async (recorded) => {
      const answer = await exchangeAnswer(signer, new URLSearchParams(recorded.body));
      return { json: { ...(answer.json as object), scope: 'profile' } };
    };
    const { exchanger } = setup();
    await assert.rejects(
      exchanger.exchange(request),
      (error: unknown) =>
        error instanceof ExchangeError &&
        error.code === 'scope_refused' &&
        /without portfolio:read/.test(error.message),
    );
  });

  const refusals: Array<{ label: string; status: number; json: Record<string, string>; code: string; fix: RegExp }> = [
    {
      label: '403 access_denied "Client is not within the token audience"',
      status: 403,
      json: { error: 'access_denied', error_description: 'Client is not within the token audience' },
      code: 'subject_not_in_audience',
      fix: /client ID must be the MCP resource URL .*"included\.custom\.audience"/,
    },
    {
      label: '400 invalid_request "Requested audience not available: stock-api"',
      status: 400,
      json: { error: 'invalid_request', error_description: 'Requested audience not available: stock-api' },
      code: 'audience_not_available',
      fix: /stock-api-audience/,
    },
    {
      label: '400 invalid_request "Standard token exchange is not enabled for the requested client"',
      status: 400,
      json: {
        error: 'invalid_request',
        error_description: 'Standard token exchange is not enabled for the requested client',
      },
      code: 'exchange_not_enabled',
      fix: /standard\.token\.exchange\.enabled=true/,
    },
    {
      label: '400 invalid_scope',
      status: 400,
      json: { error: 'invalid_scope', error_description: 'Invalid scopes: trade:write' },
      code: 'scope_refused',
      fix: /trader/,
    },
    {
      label: '400 invalid_request "Invalid token"',
      status: 400,
      json: { error: 'invalid_request', error_description: 'Invalid token' },
      code: 'subject_token_invalid',
      fix: /Sign in again/,
    },
    {
      label: '401 invalid_client',
      status: 401,
      json: { error: 'invalid_client', error_description: 'Invalid client or Invalid client credentials' },
      code: 'client_auth_failed',
      fix: /CLIENT_ID\/CLIENT_SECRET/,
    },
    {
      label: '400 with an unknown error',
      status: 400,
      json: { error: 'weird_error' },
      code: 'exchange_failed',
      fix: /troubleshooting/,
    },
  ];
  for (const refusal of refusals) {
    it(`translates ${refusal.label} into ${refusal.code}`, async () => {
      endpoint.reply = () => ({ status: refusal.status, json: refusal.json });
      const { exchanger, metrics, lines } = setup();
      await assert.rejects(exchanger.exchange(request), (error: unknown) => {
        assert.ok(error instanceof ExchangeError, String(error));
        assert.equal(error.code, refusal.code);
        assert.match(error.fix, refusal.fix);
        assert.ok(error.keycloakError?.includes(refusal.json.error as string));
        return true;
      });
      assert.equal(metrics.exchangeErrors, 1);
      assert.ok(lines.some((line) => line.includes('"msg":"token exchange failed"') && line.includes(refusal.code)));
    });
  }

  it('does not cache a refusal', async () => {
    endpoint.reply = () => ({ status: 400, json: { error: 'invalid_request', error_description: 'Invalid token' } });
    const { exchanger } = setup();
    await assert.rejects(exchanger.exchange(request));
    await assert.rejects(exchanger.exchange(request));
    assert.equal(endpoint.requests.length, 2);
  });

  it('translates connection refused into keycloak_unreachable', async () => {
    const { exchanger } = setup({ tokenEndpointUrl: `http://127.0.0.1:${await closedPort()}` });
    await assert.rejects(exchanger.exchange(request), (error: unknown) => {
      assert.ok(error instanceof ExchangeError);
      assert.equal(error.code, 'keycloak_unreachable');
      assert.match(error.fix, /Keycloak is running at http:\/\/localhost:8080\/realms\/sandbox/);
      return true;
    });
  });

  it('translates a failed discovery into keycloak_unreachable', async () => {
    const metrics = createMetrics();
    const exchanger = createExchanger({
      keycloak: {
        ...fakeKeycloak(signer.keys, endpoint.url),
        configuration: () => Promise.reject(new TypeError('fetch failed')),
      },
      cache: createMemoryCache(),
      metrics,
      logger: captureLogs().logger,
      clientId: CLIENT_ID,
      issuer: ISSUER,
      cacheSkewSeconds: 30,
    });
    await assert.rejects(
      exchanger.exchange(request),
      (error: unknown) => error instanceof ExchangeError && error.code === 'keycloak_unreachable',
    );
  });

  it('rejects every joined caller when the shared exchange fails', async () => {
    endpoint.reply = () => ({ status: 400, json: { error: 'invalid_scope' }, delayMs: 20 });
    const { exchanger } = setup();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => exchanger.exchange(request)));
    assert.ok(results.every((r) => r.status === 'rejected' && (r.reason as ExchangeError).code === 'scope_refused'));
    assert.equal(endpoint.requests.length, 1);
  });
});
