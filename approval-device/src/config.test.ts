import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, loadConfig } from './config.ts';

describe('approval-device loadConfig', () => {
  it('applies the defaults, which .env.example lists exactly', () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries([...text.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.keys(env).sort(), [...CONFIG_VARIABLES].sort());
    assert.deepEqual(loadConfig(env), loadConfig({}));
    const config = loadConfig({});
    assert.equal(config.PORT, 4100);
    assert.equal(config.redirectUri, 'http://localhost:4100/callback');
    assert.equal(config.CLIENT_ID, 'approval-device');
    assert.deepEqual(config.CIBA_CLIENT_IDS, ['http://localhost:3000/mcp']);
    assert.equal(
      config.KEYCLOAK_CALLBACK_URL,
      'http://localhost:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback',
    );
  });

  it('reaches Keycloak through KEYCLOAK_INTERNAL_URL (compose) while the issuer stays the public one', () => {
    const config = loadConfig({
      ISSUER_URL: 'http://localhost:8080/realms/sandbox',
      KEYCLOAK_INTERNAL_URL: 'http://keycloak:8080',
    });
    assert.equal(config.ISSUER_URL, 'http://localhost:8080/realms/sandbox');
    assert.equal(config.jwksUrl, 'http://keycloak:8080/realms/sandbox/protocol/openid-connect/certs');
    assert.equal(
      config.KEYCLOAK_CALLBACK_URL,
      'http://keycloak:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback',
    );
    assert.equal(config.keycloakOrigin, 'http://keycloak:8080');
  });

  it("always allows the public URL's host, and lower-cases the list", () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://Device.Example:8443',
      ALLOWED_HOSTS: 'LOCALHOST,approval-device',
    });
    assert.deepEqual(config.ALLOWED_HOSTS, ['localhost', 'approval-device', 'device.example']);
    assert.equal(config.PUBLIC_URL, 'https://device.example:8443');
    assert.equal(config.redirectUri, 'https://device.example:8443/callback');
  });

  it('refuses a public URL with a path, and a callback URL that is not the CIBA callback endpoint', () => {
    assert.throws(() => loadConfig({ PUBLIC_URL: 'http://localhost:4100/device' }), /"PUBLIC_URL" must be/);
    assert.throws(() => loadConfig({ KEYCLOAK_INTERNAL_URL: 'keycloak:8080' }), /"KEYCLOAK_INTERNAL_URL" must be/);
    assert.throws(() => loadConfig({ ISSUER_URL: 'http://localhost:8080/realms/sandbox?x' }), /"ISSUER_URL" must be/);
    assert.throws(
      () => loadConfig({ KEYCLOAK_CALLBACK_URL: 'http://localhost:8080/realms/sandbox' }),
      /"KEYCLOAK_CALLBACK_URL" must be/,
    );
  });
});
