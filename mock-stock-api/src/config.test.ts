import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies the defaults to an empty environment', () => {
    assert.deepEqual(loadConfig({}), {
      PORT: 4000,
      HOST: '127.0.0.1',
      ISSUER_URL: 'http://localhost:8080/realms/sandbox',
      JWKS_URL: 'http://localhost:8080/realms/sandbox/protocol/openid-connect/certs',
      AUDIENCE: 'stock-api',
      EXCHANGE_CLIENT_ID: 'http://localhost:3000/mcp',
      APPROVAL_THRESHOLD_USD: 5000,
    });
  });

  it('derives JWKS_URL from ISSUER_URL unless JWKS_URL is set', () => {
    assert.equal(
      loadConfig({ ISSUER_URL: 'https://id.example/realms/x' }).JWKS_URL,
      'https://id.example/realms/x/protocol/openid-connect/certs',
    );
    const config = loadConfig({
      ISSUER_URL: 'http://localhost:8080/realms/sandbox',
      JWKS_URL: 'http://keycloak:8080/realms/sandbox/protocol/openid-connect/certs',
    });
    assert.equal(config.ISSUER_URL, 'http://localhost:8080/realms/sandbox');
    assert.equal(config.JWKS_URL, 'http://keycloak:8080/realms/sandbox/protocol/openid-connect/certs');
  });

  it('parses PORT as a number and treats empty values as unset', () => {
    assert.equal(loadConfig({ PORT: '8081' }).PORT, 8081);
    assert.equal(loadConfig({ PORT: '', AUDIENCE: '' }).AUDIENCE, 'stock-api');
  });

  it('returns a frozen object', () => {
    assert.ok(Object.isFrozen(loadConfig({})));
  });

  it('rejects a bad PORT naming the variable', () => {
    for (const PORT of ['abc', '0', '70000', '-1', '80.5']) {
      assert.throws(
        () => loadConfig({ PORT }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.code, 'invalid_config');
          assert.deepEqual(err.problems, ['"PORT" must be an integer from 1 to 65535']);
          return true;
        },
      );
    }
  });

  it('rejects a bad ISSUER_URL naming the variable', () => {
    for (const ISSUER_URL of [
      'not a url',
      'ftp://localhost/realms/sandbox',
      'http://localhost:8080/realms/sandbox?x=1',
    ]) {
      assert.throws(() => loadConfig({ ISSUER_URL }), /"ISSUER_URL" must be an http\(s\) URL/);
    }
  });

  it('reports every bad variable at once', () => {
    assert.throws(
      () => loadConfig({ PORT: 'x', JWKS_URL: 'nope', AUDIENCE: 'has space' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 3 &&
        /"JWKS_URL"/.test(err.message) &&
        /"AUDIENCE"/.test(err.message),
    );
  });

  it('accepts .env.example, which lists exactly the schema variables', () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries(
      text
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    assert.deepEqual(Object.keys(env).sort(), [...CONFIG_VARIABLES].sort());
    assert.deepEqual(loadConfig(env), loadConfig({}));
  });
});
