import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../app.ts';
import type { KeycloakClient } from '../exchange/keycloak.ts';
import { blockNetwork, captureLogs, createTestApp, ISSUER, testConfig, type TestApp } from '../testing.ts';
import { protectedResourceMetadata } from './protected-resource.ts';

interface Prm {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
}

const get = (t: TestApp, path: string, headers: Record<string, string> = {}) =>
  t.app.request(new Request(`http://localhost:3000${path}`, { headers: { host: 'localhost:3000', ...headers } }));

describe('protectedResourceMetadata', () => {
  it('describes this resource and its realm', () => {
    const document = protectedResourceMetadata(testConfig()) as unknown as Prm;
    assert.equal(document.resource, 'http://localhost:3000/mcp');
    assert.deepEqual(document.authorization_servers, [ISSUER]);
    assert.deepEqual(document.scopes_supported, ['mcp:tools', 'portfolio:read', 'trade:read']);
    assert.ok(!document.scopes_supported.includes('trade:write'), 'trading is a step-up, not part of the minimal set');
    assert.ok(!document.scopes_supported.includes('offline_access'));
    assert.deepEqual(document.bearer_methods_supported, ['header']);
  });
});

describe('wellKnownRoutes', () => {
  let t: TestApp;
  before(async () => {
    blockNetwork();
    t = await createTestApp();
  });
  after(() => t.close());

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    it(`serves the metadata at ${path} with CORS and without a token`, async () => {
      const response = await get(t, path, { origin: 'http://localhost:6274' });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      const document = (await response.json()) as Prm;
      assert.equal(document.resource, 'http://localhost:3000/mcp');
      assert.deepEqual(document.authorization_servers, [ISSUER]);
      assert.deepEqual(document.bearer_methods_supported, ['header']);
      assert.ok(!document.scopes_supported.includes('offline_access'));
    });
  }

  it('answers a CORS preflight for the metadata', async () => {
    const response = await t.app.request(
      new Request('http://localhost:3000/.well-known/oauth-protected-resource/mcp', {
        method: 'OPTIONS',
        headers: {
          host: 'localhost:3000',
          origin: 'http://localhost:6274',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'mcp-protocol-version',
        },
      }),
    );
    assert.ok(response.status === 204 || response.status === 200, `status ${response.status}`);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /mcp-protocol-version/i);
  });

  it('proxies the authorization-server metadata from Keycloak', async () => {
    const response = await get(t, '/.well-known/oauth-authorization-server');
    assert.equal(response.status, 200);
    const body = (await response.json()) as { issuer: string; kind: string };
    assert.equal(body.issuer, ISSUER);
    assert.equal(body.kind, 'oauth-authorization-server');
    assert.equal(
      ((await (await get(t, '/.well-known/openid-configuration')).json()) as { kind: string }).kind,
      'openid-configuration',
    );
  });

  it('answers 503 with a hint when Keycloak metadata is unreachable', async () => {
    const { logger, lines } = captureLogs();
    const keycloak: KeycloakClient = {
      keys: t.signer.keys,
      configuration: () => Promise.reject(new Error('down')),
      metadata: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8080')),
      probe: async () => ({ ok: false, detail: 'down' }),
    };
    const { app, close } = createApp({ config: testConfig(), keycloak, logger });
    try {
      const response = await app.request(
        new Request('http://localhost:3000/.well-known/openid-configuration', { headers: { host: 'localhost:3000' } }),
      );
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      const body = (await response.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'temporarily_unavailable');
      assert.match(body.error_description, /realms\/sandbox/);
      assert.ok(lines.some((line) => line.includes('authorization server metadata unavailable')));
    } finally {
      await close();
    }
  });
});
