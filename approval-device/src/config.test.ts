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
    assert.equal(loadConfig({}).PORT, 4100);
  });

  it("refuses a callback URL that is not Keycloak's CIBA callback endpoint", () => {
    assert.throws(
      () => loadConfig({ KEYCLOAK_CALLBACK_URL: 'http://localhost:8080/realms/sandbox' }),
      /"KEYCLOAK_CALLBACK_URL" must be/,
    );
  });
});
