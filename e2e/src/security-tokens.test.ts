// Security suite, tokens: every kind of bad or misused token against the real stack, each refused with the right
// status and challenge and nothing leaked. Real Keycloak tokens wherever Keycloak can mint the case; forged tokens
// (own keys) only where the case is a forgery. Observed behaviour is tabled in docs/security.md.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { MCP_SERVER_CLIENT, STOCK_API_AUDIENCE } from '@sandbox/stack';
import { adminApi, decodeClaims, ensureHarnessClient, HARNESS_CLIENT_ID } from './harness/keycloak.ts';
import {
  adminRoot,
  createForger,
  hmacWithRealmPublicKey,
  passwordGrant,
  plausibleClaims,
  realmJwks,
  recordToken,
  tamperHeader,
  tamperPayload,
  trackedUserToken,
  trackedUserTokens,
  unsignedToken,
  type Forger,
} from './harness/forge.ts';
import {
  ALL_SCOPES,
  assertNothingLeaked,
  assertRefused,
  callMcp,
  jsonRpcHeaders,
  rawHttp,
  toolText,
} from './harness/refusals.ts';
import { stack } from './harness/stack.ts';

const WHOAMI = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };
const PORTFOLIO = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_portfolio', arguments: {} } };

/** POSTs whoami (any valid token may call it) with the given Authorization header value, if any. */
function post(authorization?: string, path = ''): Promise<Response> {
  return fetch(`${stack().urls.mcp}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(WHOAMI),
  });
}
const bearer = (token: string) => post(`Bearer ${token}`);

const AUDIENCE_MAPPER = (audience: string) => ({
  name: `audience ${audience}`,
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: {
    'included.custom.audience': audience,
    'access.token.claim': 'true',
    'id.token.claim': 'false',
    'introspection.token.claim': 'true',
  },
});

async function clientUuid(clientId: string): Promise<string> {
  const list = (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Array<{
    id: string;
  }>;
  if (!list[0]) throw new Error(`no client ${clientId}`);
  return list[0].id;
}

/** A real exchanged token for the stock API (what the MCP server sends downstream). */
async function exchangedStockApiToken(subjectToken: string): Promise<string> {
  const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: {
      // RFC 6749 §2.3.1: the client ID (a URL here) is form-encoded before Basic.
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(stack().urls.mcp)}:${MCP_SERVER_CLIENT.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: STOCK_API_AUDIENCE,
      scope: 'trade:read',
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return recordToken(((await response.json()) as { access_token: string }).access_token);
}

let forger: Forger;
let alice: string;

before(async () => {
  await ensureHarnessClient();
  forger = await createForger();
  alice = await trackedUserToken('alice', ALL_SCOPES);
  // Dedicated clients, each making Keycloak mint one kind of wrong token for real.
  await ensureHarnessClient('e2e-short-lived', { attributes: { 'access.token.lifespan': '2' } });
  await ensureHarnessClient('e2e-no-mcp-scope', {
    defaultClientScopes: ['basic', 'profile'],
    optionalClientScopes: [],
  });
  await ensureHarnessClient('e2e-other-resource', {
    defaultClientScopes: ['basic', 'profile'],
    optionalClientScopes: [],
    protocolMappers: [AUDIENCE_MAPPER('https://other-resource.example/mcp')],
  });
  await ensureHarnessClient('e2e-no-sub', { defaultClientScopes: ['profile', 'mcp:tools'], optionalClientScopes: [] });
});

/** A data tool called with a token Keycloak no longer accepts: a clear tool error from the failed exchange, nothing leaked. */
async function assertExchangeRefused(token: string): Promise<void> {
  const portfolio = await callMcp(token, PORTFOLIO);
  assert.equal(portfolio.status, 200);
  assert.equal(portfolio.body.result?.isError, true);
  assert.equal(portfolio.body.result?.structuredContent?.error, 'subject_token_invalid');
  assert.match(toolText(portfolio), /no longer accepts your access token.*Sign in again/s);
  assertNothingLeaked(portfolio.text, [token]);
}

describe('security: how a token may be sent', () => {
  it('answers no token with 401 and a bare challenge (no error code)', async () => {
    const refusal = await assertRefused(await post(), 401, undefined);
    assert.equal(refusal.error, 'unauthorized');
  });

  it('treats another scheme (Basic) as no bearer token: 401 without an error code', async () => {
    await assertRefused(await post(`Basic ${Buffer.from('alice:alice-sandbox').toString('base64')}`), 401, undefined);
  });

  it('refuses a bearer (unbound) token under the DPoP scheme with 401 invalid_token saying why (docs/dpop.md)', async () => {
    const refusal = await assertRefused(await post(`DPoP ${alice}`), 401, 'invalid_token', [alice]);
    assert.match(refusal.headers.get('www-authenticate') ?? '', /DPoP scheme was used with a bearer token/);
  });

  it('rejects two Authorization headers (really sent twice) with 400 invalid_request', async () => {
    const response = await rawHttp({
      rawHeaders: [
        ...jsonRpcHeaders(),
        'Authorization',
        `Bearer ${alice}`,
        'Authorization',
        'Bearer second.token.here',
      ],
      body: JSON.stringify(WHOAMI),
    });
    assert.equal(response.status, 400, response.body);
    assert.equal((JSON.parse(response.body) as { error: string }).error, 'invalid_request');
    assert.match(response.body, /exactly one Authorization header/);
    assertNothingLeaked(response.body, [alice]);
  });

  it('rejects two tokens in one Authorization header with 400 invalid_request', async () => {
    const refusal = await assertRefused(await post(`Bearer ${alice} ${alice}`), 400, 'invalid_request', [alice]);
    assert.match(refusal.description ?? '', /one token/);
  });

  it('rejects a valid token in the query string with 400 invalid_request, even without a header', async () => {
    const refusal = await assertRefused(await post(undefined, `?access_token=${alice}`), 400, 'invalid_request', [
      alice,
    ]);
    assert.match(refusal.description ?? '', /only in the Authorization header/);
  });

  it('answers an Authorization header over the 16 KB header limit with 431 before any parsing', async () => {
    const huge = `${alice}${'A'.repeat(17 * 1024)}`;
    recordToken(huge);
    const response = await rawHttp({
      rawHeaders: [...jsonRpcHeaders(), 'Authorization', `Bearer ${huge}`],
      body: JSON.stringify(WHOAMI),
    });
    assert.equal(response.status, 431);
    assertNothingLeaked(response.body, [alice]);
  });
});

describe('security: forged and malformed tokens', () => {
  it('rejects a value that is not a JWT with 401 invalid_token', async () => {
    const refusal = await assertRefused(await bearer('not-a-jwt'), 401, 'invalid_token');
    assert.match(refusal.description ?? '', /not a compact JWS in unpadded base64url/);
  });

  it('rejects an unsigned alg none token with 401 invalid_token', async () => {
    const token = unsignedToken(plausibleClaims());
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /algorithm is not allowed/);
  });

  it("rejects HS256 signed with the realm's RSA public key (algorithm confusion) with 401 invalid_token", async () => {
    const token = await hmacWithRealmPublicKey(plausibleClaims());
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /algorithm is not allowed/);
  });

  it('rejects RS256 signed by an unknown key (no kid) with 401 invalid_token', async () => {
    const token = await forger.sign(plausibleClaims());
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /signature is invalid|key the realm does not publish/);
  });

  it('rejects a token whose kid the realm does not publish with 401 invalid_token', async () => {
    const token = await forger.sign(plausibleClaims(), { kid: 'not-a-realm-key' });
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /key the realm does not publish/);
  });

  it("rejects a token signed by another key under the realm's own kid with 401 invalid_token", async () => {
    const kid = (await realmJwks()).find((k) => k.kty === 'RSA' && k.use !== 'enc')?.kid;
    const token = await forger.sign(plausibleClaims(), { kid });
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /signature is invalid/);
  });

  it("rejects a real Keycloak token whose payload was changed (bob's token made alice's) with 401 invalid_token", async () => {
    const bob = await trackedUserToken('bob', 'mcp:tools');
    const token = tamperPayload(bob, { sub: decodeClaims(alice).sub, preferred_username: 'alice', scope: ALL_SCOPES });
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token, bob]);
    assert.match(refusal.description ?? '', /signature is invalid/);
  });

  it('rejects a real Keycloak token whose header was changed (alg RS512) with 401 invalid_token', async () => {
    const token = tamperHeader(alice, { alg: 'RS512' });
    await assertRefused(await bearer(token), 401, 'invalid_token', [token, alice]);
  });

  it('rejects a token over MAX_TOKEN_BYTES (8192) with 401 invalid_token naming the limit', async () => {
    const token = tamperPayload(alice, { padding: 'x'.repeat(9000) });
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /larger than 8192 bytes/);
  });
});

describe('security: token lifetime', () => {
  it('rejects a forged expired token with 401 invalid_token (the signature fails first)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await forger.sign(plausibleClaims({ iat: now - 600, exp: now - 300 }));
    await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
  });

  it('rejects a real Keycloak token once it has expired (client lifespan 2 s) with 401 invalid_token "expired"', async () => {
    const { access_token: token } = await passwordGrant(
      'sandbox',
      'e2e-short-lived',
      'alice',
      'alice-sandbox',
      'mcp:tools',
    );
    const claims = decodeClaims(token);
    assert.equal(Number(claims.exp) - Number(claims.iat), 2, 'the client lifespan attribute was not applied');
    const fresh = await callMcp(token, WHOAMI);
    assert.equal(fresh.status, 200, 'the short-lived token must work while valid');
    // The server allows 5 s of clock skew.
    await sleep((Number(claims.exp) + 6) * 1000 - Date.now());
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /expired/);
  });

  it('rejects a forged token whose nbf is in the future with 401 invalid_token', async () => {
    const token = await forger.sign(plausibleClaims({ nbf: Math.floor(Date.now() / 1000) + 3600 }));
    await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
  });
});

describe('security: issuer', () => {
  it('rejects a real token from another realm on the same Keycloak (its keys are not trusted) with 401 invalid_token', async () => {
    const created = await adminRoot('', {
      method: 'POST',
      body: JSON.stringify({
        realm: 'other',
        enabled: true,
        users: [
          {
            username: 'mallory',
            enabled: true,
            email: 'mallory@other.example',
            emailVerified: true,
            firstName: 'Mallory',
            lastName: 'Other',
            credentials: [{ type: 'password', value: 'mallory-other', temporary: false }],
          },
        ],
        // Even with the MCP resource in its audience, a token from this realm is not for this server.
        clients: [
          {
            clientId: 'other-cli',
            publicClient: true,
            directAccessGrantsEnabled: true,
            standardFlowEnabled: false,
            protocolMappers: [AUDIENCE_MAPPER(stack().urls.mcp)],
          },
        ],
      }),
    });
    assert.ok(created.status === 201 || created.status === 409, `creating realm other: ${created.status}`);
    const { access_token: token } = await passwordGrant('other', 'other-cli', 'mallory', 'mallory-other', 'profile');
    assert.ok((decodeClaims(token).aud as string[]).includes(stack().urls.mcp));
    assert.equal(decodeClaims(token).iss, `${stack().urls.keycloak}/realms/other`);
    // Only the sandbox realm's JWKS is trusted, so the signature check refuses it before the issuer is compared.
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /key the realm does not publish/);
  });

  it('rejects a real sandbox token whose issuer is https instead of http with 401 invalid_token "another issuer"', async () => {
    const realm = (await (await adminApi('')).json()) as { attributes: Record<string, string> };
    const set = (frontendUrl: string) =>
      adminApi('', { method: 'PUT', body: JSON.stringify({ attributes: { ...realm.attributes, frontendUrl } }) });
    let token: string;
    try {
      assert.equal((await set(stack().urls.keycloak.replace('http:', 'https:'))).status, 204);
      ({ access_token: token } = await passwordGrant(
        'sandbox',
        HARNESS_CLIENT_ID,
        'alice',
        'alice-sandbox',
        'mcp:tools',
      ));
    } finally {
      assert.equal((await set(realm.attributes.frontendUrl ?? '')).status, 204);
    }
    assert.equal(decodeClaims(token).iss, stack().urls.issuer.replace('http:', 'https:'));
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /another issuer/);
  });

  it('rejects a forged token whose issuer has a trailing slash with 401 invalid_token', async () => {
    const token = await forger.sign(plausibleClaims({ iss: `${stack().urls.issuer}/` }));
    await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
  });
});

describe('security: audience and token type', () => {
  it('rejects a real token without the MCP audience (client without mcp:tools) with 401 invalid_token', async () => {
    const { access_token: token } = await passwordGrant(
      'sandbox',
      'e2e-no-mcp-scope',
      'alice',
      'alice-sandbox',
      'profile',
    );
    const aud = decodeClaims(token).aud;
    assert.ok(
      aud === undefined || !JSON.stringify(aud).includes(stack().urls.mcp),
      `unexpected aud ${JSON.stringify(aud)}`,
    );
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /not for this resource/);
  });

  it('rejects a real exchanged token for the stock API sent to /mcp with 401 invalid_token', async () => {
    const token = await exchangedStockApiToken(alice);
    assert.equal(decodeClaims(token).aud, 'stock-api');
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /not for this resource/);
  });

  it('rejects a real token for another resource with 401 invalid_token', async () => {
    const { access_token: token } = await passwordGrant(
      'sandbox',
      'e2e-other-resource',
      'alice',
      'alice-sandbox',
      'profile',
    );
    assert.ok(JSON.stringify(decodeClaims(token).aud).includes('https://other-resource.example/mcp'));
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /not for this resource/);
  });

  it("rejects alice's real ID token with 401 invalid_token", async () => {
    const { idToken } = await trackedUserTokens('alice', ALL_SCOPES);
    assert.ok(idToken);
    assert.equal(decodeClaims(idToken).typ, 'ID');
    await assertRefused(await bearer(idToken), 401, 'invalid_token', [idToken]);
  });

  it("rejects alice's real refresh token (HS512) with 401 invalid_token", async () => {
    const { refreshToken } = await trackedUserTokens('alice', ALL_SCOPES);
    assert.ok(refreshToken);
    const refusal = await assertRefused(await bearer(refreshToken), 401, 'invalid_token', [refreshToken]);
    assert.match(refusal.description ?? '', /algorithm is not allowed/);
  });

  it('rejects a real token without sub (client without the basic scope) with 401 invalid_token', async () => {
    const { access_token: token } = await passwordGrant('sandbox', 'e2e-no-sub', 'alice', 'alice-sandbox', 'mcp:tools');
    assert.equal(decodeClaims(token).sub, undefined, 'Keycloak added sub without the basic scope');
    const refusal = await assertRefused(await bearer(token), 401, 'invalid_token', [token]);
    assert.match(refusal.description ?? '', /"sub"/);
  });
});

describe('security: what the server cannot know without asking Keycloak', () => {
  it('keeps accepting the JWT of a disabled client until it expires, but the exchange then fails with a clear tool error', async () => {
    const stale = (await (await adminApi('/clients?clientId=e2e-disable-me')).json()) as Array<{ id: string }>;
    for (const client of stale) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
    await ensureHarnessClient('e2e-disable-me');
    const { access_token: token } = await passwordGrant(
      'sandbox',
      'e2e-disable-me',
      'alice',
      'alice-sandbox',
      'mcp:tools portfolio:read',
    );
    const id = await clientUuid('e2e-disable-me');
    const representation = (await (await adminApi(`/clients/${id}`)).json()) as Record<string, unknown>;
    try {
      assert.equal(
        (
          await adminApi(`/clients/${id}`, {
            method: 'PUT',
            body: JSON.stringify({ ...representation, enabled: false }),
          })
        ).status,
        204,
      );
      const who = await callMcp(token, WHOAMI);
      assert.equal(who.status, 200, 'the server validates JWTs locally: a disabled client is invisible to it');
      assert.equal(who.body.result?.structuredContent?.clientId, 'e2e-disable-me');
      await assertExchangeRefused(token);
    } finally {
      await adminApi(`/clients/${id}`, { method: 'DELETE' });
    }
  });

  it('keeps accepting a token replayed after the user was logged out, but no exchange succeeds for it', async () => {
    const token = await trackedUserToken('bob', ALL_SCOPES);
    const users = (await (await adminApi('/users?username=bob&exact=true')).json()) as Array<{ id: string }>;
    assert.equal((await adminApi(`/users/${users[0]?.id}/logout`, { method: 'POST' })).status, 204);
    const who = await callMcp(token, WHOAMI);
    assert.equal(who.status, 200, 'no introspection: the JWT stays valid at the MCP server until exp');
    assert.equal(who.body.result?.structuredContent?.username, 'bob');
    await assertExchangeRefused(token);
    // A new login works at once.
    const again = await callMcp(await trackedUserToken('bob', ALL_SCOPES), PORTFOLIO);
    assert.equal(again.body.result?.isError, undefined, again.text);
  });
});
