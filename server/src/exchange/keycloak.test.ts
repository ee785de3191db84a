import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { blockNetwork, startFakeServer, testConfig, type FakeServer } from '../testing.ts';
import { createKeycloakClient, discoveryHardening } from './keycloak.ts';

describe('createKeycloakClient', () => {
  const issuer = 'https://kc.example/realms/sandbox';
  let kc: FakeServer;
  before(async () => {
    blockNetwork();
    kc = await startFakeServer((request) =>
      request.path === '/realms/sandbox/.well-known/openid-configuration'
        ? {
            json: {
              issuer,
              token_endpoint: `${issuer}/protocol/openid-connect/token`,
              jwks_uri: `${issuer}/protocol/openid-connect/certs`,
            },
          }
        : { status: 404, json: {} },
    );
  });
  after(() => kc.close());

  it('allows plain-HTTP endpoints only for an http:// issuer (regression: allowed for https issuers too)', () => {
    assert.deepEqual(discoveryHardening('http://localhost:8080/realms/sandbox'), [oidc.allowInsecureRequests]);
    assert.deepEqual(discoveryHardening(issuer), []);
  });

  it('discovers an https issuer through a plain-HTTP internal address, with the public URLs kept', async () => {
    const client = createKeycloakClient(testConfig({ ISSUER_URL: issuer, KEYCLOAK_INTERNAL_URL: kc.url }));
    const configuration = await client.configuration();
    assert.equal(configuration.serverMetadata().issuer, issuer);
    assert.equal(configuration.serverMetadata().token_endpoint, `${issuer}/protocol/openid-connect/token`);
    assert.equal(kc.requests.at(-1)?.path, '/realms/sandbox/.well-known/openid-configuration');
  });
});
