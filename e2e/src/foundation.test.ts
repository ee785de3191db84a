// Issue 2's proof against the real Keycloak: exchange, the stock API's audience rule, no up-scoping, anonymous DCR.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { MCP_SERVER_CLIENT, PUBLIC_CLIENT_ID, SANDBOX_USERS, STOCK_API_AUDIENCE } from '@sandbox/stack';
import {
  decodeClaims,
  ensureHarnessClient,
  HARNESS_CLIENT_ID,
  lastRegistrationRefusal,
  userToken,
  userTokens,
} from './harness/keycloak.ts';
import { stack } from './harness/stack.ts';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';

let mcpServerConfig: oidc.Configuration;
async function exchange(subjectToken: string, scope: string) {
  return oidc.genericGrantRequest(mcpServerConfig, EXCHANGE, {
    subject_token: subjectToken,
    subject_token_type: ACCESS,
    requested_token_type: ACCESS,
    audience: STOCK_API_AUDIENCE,
    scope,
  });
}

async function register(metadata: Record<string, unknown>): Promise<Response> {
  return fetch(`${stack().urls.issuer}/clients-registrations/openid-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'e2e dcr',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...metadata,
    }),
  });
}

describe('realm sandbox: token exchange for the stock API', () => {
  before(async () => {
    mcpServerConfig = await oidc.discovery(
      new URL(stack().urls.issuer),
      stack().urls.mcp,
      MCP_SERVER_CLIENT.secret,
      oidc.ClientSecretBasic(MCP_SERVER_CLIENT.secret),
      { execute: [oidc.allowInsecureRequests] },
    );
  });

  it("issues alice's token for the MCP resource, which is also the MCP server's client ID", async () => {
    const claims = decodeClaims(await userToken('alice', 'portfolio:read'));
    assert.deepEqual([claims.aud].flat(), [stack().urls.mcp]);
    assert.equal(claims.typ, 'Bearer');
    assert.match(String(claims.scope), /portfolio:read/);
  });

  it("exchanges alice's token for a stock-api token with exactly one scope, and the stock API returns her portfolio", async () => {
    const aliceToken = await userToken('alice', 'portfolio:read trade:read');
    const exchanged = await exchange(aliceToken, 'portfolio:read');
    const claims = decodeClaims(exchanged.access_token);
    assert.equal(claims.aud, STOCK_API_AUDIENCE);
    assert.equal(claims.azp, stack().urls.mcp);
    assert.equal(claims.sub, decodeClaims(aliceToken).sub);
    assert.deepEqual(
      String(claims.scope)
        .split(' ')
        .filter((s) => s.includes(':')),
      ['portfolio:read'],
    );
    const response = await fetch(`${stack().urls.stockApi}/portfolio`, {
      headers: { authorization: `Bearer ${exchanged.access_token}` },
    });
    assert.equal(response.status, 200);
    const portfolio = (await response.json()) as { owner: { sub: string; username: string }; holdings: unknown[] };
    assert.equal(portfolio.owner.username, 'alice');
    assert.equal(portfolio.owner.sub, claims.sub);
    assert.ok(portfolio.holdings.length > 0);
  });

  it("rejects alice's original MCP token at the stock API and says why", async () => {
    const aliceToken = await userToken('alice', 'portfolio:read');
    const response = await fetch(`${stack().urls.stockApi}/portfolio`, {
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'wrong_audience');
    assert.match(body.error.message, /exchang/i);
  });

  it("refuses bob's exchange for trade:write (his role does not allow it)", async () => {
    const bobTokens = await userTokens('bob', 'portfolio:read trade:read trade:write');
    assert.doesNotMatch(bobTokens.scope, /trade:write/, 'Keycloak must not grant bob trade:write');
    await assert.rejects(exchange(bobTokens.accessToken, 'trade:write'), (error: unknown) => {
      assert.ok(error instanceof oidc.ResponseBodyError);
      assert.equal(error.error, 'invalid_scope');
      return true;
    });
  });

  it("refuses to up-scope alice's token: trade:read only cannot become portfolio:read", async () => {
    const narrow = await userToken('alice', 'trade:read');
    await assert.rejects(
      exchange(narrow, 'portfolio:read'),
      (error: unknown) => error instanceof oidc.ResponseBodyError && error.error === 'invalid_scope',
    );
  });

  it('refuses an exchange by a client that is not in the subject token audience', async () => {
    const aliceToken = await userToken('alice', 'portfolio:read');
    const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: EXCHANGE,
        client_id: 'stock-api',
        client_secret: 'sandbox-stock-api-unused',
        subject_token: aliceToken,
        subject_token_type: ACCESS,
        audience: STOCK_API_AUDIENCE,
      }),
    });
    assert.ok(
      response.status === 400 || response.status === 401 || response.status === 403,
      `status ${response.status}`,
    );
  });
});

describe('realm sandbox: clients and anonymous dynamic client registration', () => {
  it('registers a loopback client anonymously; it may later ask for every MCP scope (mcp-optional-scopes)', async () => {
    const response = await register({
      redirect_uris: ['http://127.0.0.1:49152/callback'],
      scope: 'mcp:tools portfolio:read',
    });
    assert.equal(response.status, 201, await response.clone().text());
    const client = (await response.json()) as { client_id: string; scope: string };
    assert.ok(client.client_id);
    // Keycloak alone would keep only the two requested; the realm's extension adds the other MCP scopes as optional,
    // so a client registered from the least-privilege challenge can still step up to trade:write.
    assert.deepEqual(
      new Set(client.scope.split(' ')),
      new Set(['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write']),
    );
  });

  it('refuses a registration whose redirect URI is not loopback; the realm event names the rule', async () => {
    const response = await register({ redirect_uris: ['https://evil.example.com/callback'] });
    assert.equal(response.status, 403);
    assert.match(await lastRegistrationRefusal(), /Invalid Redirect Uri/);
  });

  it('refuses a registration asking for a client scope the policy does not allow', async () => {
    const response = await register({
      redirect_uris: ['http://127.0.0.1:49153/callback'],
      scope: 'mcp:tools stock-api-audience',
    });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /Allowed Client Scopes|not allowed/i);
  });

  it('does not allow the password grant on the public client mcp-cli', async () => {
    const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: PUBLIC_CLIENT_ID,
        username: 'alice',
        password: SANDBOX_USERS.find((u) => u.username === 'alice')?.password ?? '',
      }),
    });
    assert.equal(response.status, 400, await response.clone().text());
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'unauthorized_client');
    assert.match(body.error_description, /direct access grants/);
  });
});

describe('realm sandbox: refresh tokens rotate (2026-07-28: rotated for public clients)', () => {
  it('each refresh returns a new refresh token; replaying an old one is refused and ends the grant', async () => {
    const { refreshToken } = await userTokens('alice', 'mcp:tools trade:read');
    assert.ok(refreshToken, 'no refresh token issued');
    // Keycloak judges staleness by whole seconds (a token issued in the same second as the session's last refresh is
    // not yet stale), so each step waits a little over a second, as real refreshes minutes apart always do.
    const refresh = async (token: string) => {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: HARNESS_CLIENT_ID }),
      });
      return { status: response.status, body: (await response.json()) as { refresh_token?: string; error?: string } };
    };
    const first = await refresh(refreshToken);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const rotated = first.body.refresh_token as string;
    assert.ok(rotated && rotated !== refreshToken, 'the refresh token was not rotated');
    const second = await refresh(rotated);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const latest = second.body.refresh_token as string;
    // Replaying a used refresh token is refused, and Keycloak then drops the client's session: a stolen, already
    // used token cannot be raced against the rightful client (reuse detection), at the cost of one new login.
    const replay = await refresh(refreshToken);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    const after = await refresh(latest);
    assert.equal(after.status, 400, 'the grant survived a replayed refresh token');
    assert.equal(after.body.error, 'invalid_grant');
  });
});

describe('realm sandbox: RFC 8707 resource indicators (Keycloak feature resource-indicators)', () => {
  const tokenRequest = async (resource: string | undefined) => {
    await ensureHarnessClient();
    const body = new URLSearchParams({
      grant_type: 'password',
      client_id: HARNESS_CLIENT_ID,
      username: 'alice',
      password: SANDBOX_USERS.find((u) => u.username === 'alice')?.password ?? '',
      scope: 'openid mcp:tools trade:read',
    });
    if (resource) body.set('resource', resource);
    const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, { method: 'POST', body });
    return {
      status: response.status,
      body: (await response.json()) as { access_token?: string; error?: string; error_description?: string },
    };
  };

  it('a token requested for the MCP resource has exactly that audience', async () => {
    const { status, body } = await tokenRequest(stack().urls.mcp);
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual([decodeClaims(body.access_token as string).aud].flat(), [stack().urls.mcp]);
  });

  it('an unknown resource gets invalid_target, and no token', async () => {
    const { status, body } = await tokenRequest('http://localhost:9/another-mcp-server');
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_target');
    assert.match(body.error_description ?? '', /requested resource is invalid, missing, unknown, or malformed/);
    assert.equal(body.access_token, undefined);
  });
});
