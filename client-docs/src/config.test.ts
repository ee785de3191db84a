import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config.ts';

const TLS = { TLS_CERT_FILE: '/tls/client-docs.crt', TLS_KEY_FILE: '/tls/client-docs.key' };

describe('client-docs loadConfig', () => {
  it('applies the documented defaults once the TLS files are named', () => {
    assert.deepEqual(loadConfig(TLS), {
      PORT: 8443,
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://client-docs.localhost:8443',
      CACHE_MAX_AGE_S: 300,
      ...TLS,
    });
  });

  it('requires the TLS files and says where they come from', () => {
    assert.throws(
      () => loadConfig({}),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 2 &&
        /"TLS_CERT_FILE" must be the path of a PEM certificate .*make up/.test(err.message),
    );
  });

  it('refuses a PUBLIC_URL that is not an https origin (client IDs must be https URLs)', () => {
    for (const PUBLIC_URL of ['http://client-docs.localhost:8443', 'https://x.test/path', 'https://x.test/?q', 'x'])
      assert.throws(() => loadConfig({ ...TLS, PUBLIC_URL }), /"PUBLIC_URL" must be an https origin/, PUBLIC_URL);
    assert.equal(
      loadConfig({ ...TLS, PUBLIC_URL: 'https://docs.example:9443/' }).PUBLIC_URL,
      'https://docs.example:9443',
    );
  });

  it('accepts .env.example, which lists every variable (TLS ones commented, having no default)', () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const pairs = [...text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]] as [string, string]);
    assert.deepEqual(pairs.map(([key]) => key).sort(), [...CONFIG_VARIABLES].sort());
    assert.deepEqual(
      loadConfig(Object.fromEntries(pairs)),
      loadConfig(Object.fromEntries(pairs.filter(([k]) => k.startsWith('TLS_')))),
    );
  });
});
