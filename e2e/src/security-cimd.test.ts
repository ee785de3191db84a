// Whom Keycloak trusts as a CIMD client, and what such a client may do (keycloak/README.md, "CIMD"): documents only at
// the exact origin and path the sandbox serves them from, never at another port of the same host, even one serving
// the sandbox's own certificate (the attack of issue 23: a readable client-docs key); and no grant or scope a DCR
// client may not have. Also the two requests Keycloak 26.7.3 answered with a NullPointerException (500), now clean
// OAuth errors (keycloak/README.md, "Upstream Keycloak bugs seen"). The refused documents client-docs serves (CIBA
// grant, client_credentials, trade:approved) are each shown refused in cimd.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { documentUrl, outsidePrefixUrl } from '@sandbox/client-docs';
import { CLIENT_DOCS_HOST, getFromClientDocs, TLS_DIR } from '@sandbox/stack';
import { formLogin, keycloakErrorMessage, pkce } from './harness/form-login.ts';
import { adminApi } from './harness/keycloak.ts';
import { stack } from './harness/stack.ts';

const CA = join(TLS_DIR, 'ca.crt');
const LOOPBACK_REDIRECT = 'http://127.0.0.1:5556/callback';

function authorizationUrl(clientId: string, redirectUri: string, challenge: string, scope: string): URL {
  const url = new URL(`${stack().urls.issuer}/protocol/openid-connect/auth`);
  for (const [key, value] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    resource: stack().urls.mcp,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'security-cimd',
  }))
    url.searchParams.set(key, value);
  return url;
}

async function clientsNamed(clientId: string): Promise<unknown[]> {
  return (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as unknown[];
}

/** Signs alice in for `clientId` (with resource = the MCP URL), then redeems the code, again with resource. */
async function codeExchange(clientId: string, redirectUri: string, scope: string): Promise<Response> {
  const { verifier, challenge } = pkce();
  const back = await formLogin(authorizationUrl(clientId, redirectUri, challenge, scope), 'alice');
  const code = back.searchParams.get('code');
  assert.ok(code, `no code in ${back.origin}${back.pathname}: ${back.searchParams.get('error_description')}`);
  return fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      resource: stack().urls.mcp,
    }),
  });
}

async function oauthError(response: Response): Promise<{ status: number; error?: string; description?: string }> {
  const text = await response.text();
  let body: { error?: string; error_description?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    assert.fail(`not an OAuth error (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, error: body.error, description: body.error_description };
}

describe('security: CIMD documents are trusted only at the exact origin and path the sandbox serves', () => {
  it("treats a document served with the sandbox's own certificate on another port as an unknown client, never fetching it", async () => {
    // The impostor: client-docs' key and certificate (whoever can read the key can do this), on a random port,
    // serving the attacker's document: a valid CIMD document that also asks for CIBA and trade:approved.
    const fetched: string[] = [];
    let clientId = '';
    const impostor = createServer(
      { cert: readFileSync(join(TLS_DIR, 'client-docs.crt')), key: readFileSync(join(TLS_DIR, 'client-docs.key')) },
      (request, response) => {
        fetched.push(request.url ?? '');
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            client_id: clientId,
            client_name: 'Sandbox reference client (SDK v2)',
            redirect_uris: ['http://127.0.0.1/callback'],
            grant_types: ['authorization_code', 'refresh_token', 'urn:openid:params:grant-type:ciba'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            scope: 'mcp:tools portfolio:read trade:read trade:write trade:approved',
          }),
        );
      },
    );
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = impostor.address() as AddressInfo;
      clientId = `https://${CLIENT_DOCS_HOST}:${port}/clients/sdk-reference.json`;
      // The premise: under the sandbox CA, this is a valid TLS host for the trusted name.
      assert.equal((await getFromClientDocs(port, '/clients/sdk-reference.json', CA)).status, 200);
      fetched.length = 0;

      const response = await fetch(authorizationUrl(clientId, LOOPBACK_REDIRECT, pkce().challenge, 'mcp:tools'), {
        redirect: 'manual',
      });
      assert.equal(response.status, 400);
      assert.match(keycloakErrorMessage(await response.text()), /Client not found/);
      assert.deepEqual(fetched, [], 'Keycloak fetched the impostor document');
      assert.deepEqual(await clientsNamed(clientId), [], 'Keycloak created a client from the impostor document');
    } finally {
      impostor.close();
    }
  });

  it('treats a document on the sandbox origin but outside /clients/ as an unknown client', async () => {
    const clientId = outsidePrefixUrl(stack().urls.clientDocs, 'sdk-reference');
    // Served, and otherwise valid: it names its own URL.
    const served = await getFromClientDocs(stack().ports.clientDocs, new URL(clientId).pathname, CA);
    assert.equal(served.status, 200);
    assert.equal((JSON.parse(served.body) as { client_id: string }).client_id, clientId);

    const response = await fetch(authorizationUrl(clientId, LOOPBACK_REDIRECT, pkce().challenge, 'mcp:tools'), {
      redirect: 'manual',
    });
    assert.equal(response.status, 400);
    assert.match(keycloakErrorMessage(await response.text()), /Client not found/);
    assert.deepEqual(await clientsNamed(clientId), [], 'Keycloak created a client from outside the trusted path');
  });
});

describe('security: a CIMD client gets no grant a DCR client may not have', () => {
  it('refuses a CIBA request of a client under the trusted prefix, even one that holds the CIBA grant', async () => {
    // Documents declaring CIBA are refused at the authorization request (cimd.test.ts). Should such a client exist
    // anyway (made here through the admin API, as Keycloak makes one from a document), its CIBA request is refused
    // before Keycloak asks alice's device.
    const clientId = documentUrl(stack().urls.clientDocs, 'e2e-made-with-ciba');
    const created = await adminApi('/clients', {
      method: 'POST',
      body: JSON.stringify({
        clientId,
        publicClient: true,
        standardFlowEnabled: true,
        consentRequired: true,
        fullScopeAllowed: false,
        attributes: {
          'oidc.ciba.grant.enabled': 'true',
          'ciba.backchannel.token.delivery.mode': 'poll',
          'cimd.cache.expiry.time.in.sec': String(Math.floor(Date.now() / 1000) + 600),
        },
        defaultClientScopes: ['basic'],
        optionalClientScopes: ['mcp:tools'],
      }),
    });
    assert.equal(created.status, 201, await created.text());
    try {
      const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/ext/ciba/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: clientId,
          scope: 'openid mcp:tools',
          login_hint: 'alice',
          binding_message: 'e2e-cimd-ciba',
        }),
      });
      const refusal = await oauthError(response);
      assert.equal(refusal.status, 400, JSON.stringify(refusal));
      assert.equal(refusal.error, 'unauthorized_client');
      assert.match(refusal.description ?? '', /CIMD client may not use the grant urn:openid:params:grant-type:ciba/);
    } finally {
      const [client] = (await clientsNamed(clientId)) as Array<{ id: string }>;
      if (client) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
    }
  });
});

describe('security: requests Keycloak 26.7.3 answered with a NullPointerException get a clean OAuth error', () => {
  it("answers the explorer's public client asking for the MCP resource with 400 invalid_target", async () => {
    const response = await codeExchange('workshop-explorer', `${stack().urls.mcpOrigin}/explorer/callback`, 'openid');
    const refusal = await oauthError(response);
    assert.equal(refusal.status, 400, JSON.stringify(refusal));
    assert.equal(refusal.error, 'invalid_target');
  });

  it('answers the token request of a CIMD client without the refresh_token grant with 400 invalid_request', async () => {
    const clientId = documentUrl(stack().urls.clientDocs, 'no-refresh-token');
    const response = await codeExchange(clientId, LOOPBACK_REDIRECT, 'openid mcp:tools');
    const refusal = await oauthError(response);
    assert.equal(refusal.status, 400, JSON.stringify(refusal));
    assert.equal(refusal.error, 'invalid_request');
    assert.match(refusal.description ?? '', /refresh_token/);
  });
});
