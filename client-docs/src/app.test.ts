import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { DOCUMENTS } from './documents.ts';

const PUBLIC_URL = 'https://client-docs.localhost:18443';
const logged: Array<Record<string, unknown>> = [];
const app = createApp({
  config: loadConfig({ PUBLIC_URL, TLS_CERT_FILE: 'c', TLS_KEY_FILE: 'k', CACHE_MAX_AGE_S: '30' }),
  log: (entry) => logged.push(entry),
});

describe('client-docs app', () => {
  it('serves each document with its own URL as client_id and a Cache-Control lifetime', async () => {
    for (const name of ['sdk-reference', 'inspector']) {
      const res = await app.request(`/clients/${name}.json`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=30');
      const doc = (await res.json()) as Record<string, unknown>;
      assert.equal(doc.client_id, `${PUBLIC_URL}/clients/${name}.json`);
      assert.equal(doc.token_endpoint_auth_method, 'none');
      assert.ok(!('client_secret' in doc));
      assert.deepEqual(doc.grant_types, ['authorization_code', 'refresh_token']);
      for (const uri of doc.redirect_uris as string[]) assert.match(uri, /^http:\/\/127\.0\.0\.1\//);
    }
  });

  it('serves the refused examples, each breaking the rule it names', async () => {
    const get = async (name: string) =>
      (await (await app.request(`/clients/${name}.json`)).json()) as Record<string, unknown>;
    assert.notEqual(
      (await get('refused-client-id-mismatch')).client_id,
      `${PUBLIC_URL}/clients/refused-client-id-mismatch.json`,
    );
    assert.equal((await get('refused-shared-secret')).token_endpoint_auth_method, 'client_secret_post');
    assert.deepEqual((await get('refused-foreign-redirect')).redirect_uris, ['https://attacker.example/callback']);
    assert.ok(!('client_name' in (await get('refused-no-client-name'))));
    assert.ok((await get('refused-ciba-grant')).grant_types?.toString().includes('urn:openid:params:grant-type:ciba'));
    assert.ok((await get('refused-client-credentials')).grant_types?.toString().includes('client_credentials'));
    assert.match(String((await get('refused-approval-scope')).scope), /(^| )trade:approved( |$)/);
    assert.deepEqual((await get('no-refresh-token')).grant_types, ['authorization_code']);
  });

  it('serves each document outside the trusted path too, naming that URL as its client_id', async () => {
    const res = await app.request('/outside-trusted-path/sdk-reference.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.equal(doc.client_id, `${PUBLIC_URL}/outside-trusted-path/sdk-reference.json`);
    assert.deepEqual(doc.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal((await app.request('/outside-trusted-path/nope.json')).status, 404);
  });

  it('lists the catalogue, with the refusal Keycloak gives for each refused example', async () => {
    const list = (await (await app.request('/clients')).json()) as Array<Record<string, string>>;
    assert.deepEqual(
      list.map((entry) => entry.name),
      Object.keys(DOCUMENTS),
    );
    assert.equal(list.filter((entry) => entry.keycloak_refuses_with).length, 7);
  });

  it('answers an unknown or malformed name with 404 naming the catalogue, and logs each request', async () => {
    for (const path of ['/clients/nope.json', '/clients/INSPECTOR.json', '/clients/inspector', '/other']) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      assert.match(
        ((await res.json()) as { error_description: string }).error_description,
        /GET https:\/\/client-docs\.localhost:18443\/clients lists them/,
      );
    }
    assert.ok(logged.some((entry) => entry.route === '/clients/nope.json' && entry.status === 404));
  });
});
