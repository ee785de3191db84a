// What a client may register anonymously, and what the tokens it gets may do: the registration rules of the realm
// (keycloak/README.md, "Anonymous dynamic client registration"), the MCP server's rule that a token must stand for a
// signed-in user (`sid`), and refusals that re-authorizing cannot cure (bob lacks the trader role).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminApi, decodeClaims, lastRegistrationRefusal } from './harness/keycloak.ts';
import { recordToken, trackedUserToken } from './harness/forge.ts';
import { assertRefused, callMcp, toolText } from './harness/refusals.ts';
import { rawPost, toolCall } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

/** whoami (any valid token may call it) with a bearer token. */
const whoami = (token: string) => rawPost(toolCall('whoami'), { authorization: `Bearer ${token}` });

describe('security: anonymous dynamic client registration', () => {
  const register = (metadata: Record<string, unknown>) =>
    fetch(`${stack().urls.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'e2e security dcr',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1:49200/callback'],
        ...metadata,
      }),
    });

  it('refuses registrations beyond the Max Clients policy, naming the policy', async () => {
    const components = (await (
      await adminApi('/components?type=org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy')
    ).json()) as Array<{
      id: string;
      name: string;
      providerId: string;
      subType: string;
      config: Record<string, string[]>;
    }>;
    const policy = components.find((c) => c.providerId === 'max-clients' && c.subType === 'anonymous');
    assert.ok(policy, 'no anonymous Max Clients policy in the realm');
    const original = policy.config['max-clients'] ?? ['200'];
    const count = ((await (await adminApi('/clients?max=10000')).json()) as unknown[]).length;
    const created: string[] = [];
    try {
      const update = await adminApi(`/components/${policy.id}`, {
        method: 'PUT',
        body: JSON.stringify({ ...policy, config: { ...policy.config, 'max-clients': [String(count + 2)] } }),
      });
      assert.equal(update.status, 204);
      let refusal: Response | undefined;
      for (let i = 0; i < 5 && !refusal; i++) {
        const response = await register({ client_name: `e2e max clients ${i}` });
        if (response.status === 201) created.push(((await response.json()) as { client_id: string }).client_id);
        else refusal = response;
      }
      assert.equal(created.length, 2, 'exactly the two registrations under the limit succeed');
      assert.ok(refusal);
      assert.equal(refusal.status, 403);
      assert.match(await refusal.text(), /Max Clients/);
    } finally {
      await adminApi(`/components/${policy.id}`, {
        method: 'PUT',
        body: JSON.stringify({ ...policy, config: { ...policy.config, 'max-clients': original } }),
      });
      for (const clientId of created) {
        const [client] = (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Array<{
          id: string;
        }>;
        if (client) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
      }
    }
    const restored = (await (await adminApi(`/components/${policy.id}`)).json()) as {
      config: Record<string, string[]>;
    };
    assert.deepEqual(restored.config['max-clients'], original);
  });

  it("accepts what real clients send: mcp-remote's registration as it is, and one with no scope (Claude Code)", async () => {
    const mcpRemote = await register({
      client_name: 'MCP CLI Client',
      redirect_uris: ['http://localhost:3334/oauth/callback'],
      client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      application_type: 'native',
      software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
      software_version: '0.15.1',
      scope: 'mcp:tools portfolio:read trade:read trade:write offline_access',
    });
    assert.equal(mcpRemote.status, 201, await mcpRemote.clone().text());
    const noScope = await register({ redirect_uris: ['http://[::1]:49201/callback'], scope: undefined });
    assert.equal(noScope.status, 201, await noScope.clone().text());
    // Keycloak's answer lists only optional scopes; the client itself shows what the realm's policy made of it: the
    // first challenge's read scopes as defaults (its authorization requests may name no scope, as MCPJam's do), and
    // trade:write optional (step-up).
    const registered = (await noScope.json()) as { client_id: string; scope: string };
    assert.ok(registered.scope.split(' ').includes('trade:write'), registered.scope);
    const [client] = (await (await adminApi(`/clients?clientId=${registered.client_id}`)).json()) as Array<{
      id: string;
    }>;
    const names = async (kind: 'default' | 'optional') =>
      ((await (await adminApi(`/clients/${client?.id}/${kind}-client-scopes`)).json()) as Array<{ name: string }>)
        .map((scope) => scope.name)
        .sort();
    const defaults = await names('default');
    for (const scope of ['mcp:tools', 'portfolio:read', 'trade:read']) assert.ok(defaults.includes(scope), scope);
    assert.ok(!defaults.includes('trade:write'), `trade:write must stay optional: ${defaults.join(' ')}`);
    assert.ok((await names('optional')).includes('trade:write'));
  });

  // Each abuse an outside probe found, the metadata that carries it, and the rule Keycloak names in its event.
  const abuses: Array<[string, Record<string, unknown>, RegExp]> = [
    ['https redirect on a foreign host', { redirect_uris: ['https://evil.example/callback'] }, /Invalid Redirect Uri/],
    ['loopback look-alike host', { redirect_uris: ['http://localhost.evil.example/callback'] }, /Invalid Redirect Uri/],
    ['userinfo trick', { redirect_uris: ['http://127.0.0.1:5000@evil.example/callback'] }, /Invalid Redirect Uri/],
    ['host-less redirect "*"', { redirect_uris: ['*'] }, /Invalid Redirect Uri/],
    ['javascript: redirect', { redirect_uris: ['javascript:alert(1)'] }, /Invalid Redirect Uri/],
    ['private-use scheme', { redirect_uris: ['com.example.app:/callback'] }, /Invalid Redirect Uri/],
    ['wildcard redirect', { redirect_uris: ['http://127.0.0.1/*'] }, /Invalid Redirect Uri/],
    ['open redirect after logout', { post_logout_redirect_uris: ['https://evil.example/bye'] }, /Invalid Redirect Uri/],
    [
      'SSRF via sector_identifier_uri',
      { sector_identifier_uri: 'http://169.254.169.254/latest' },
      /sectorIdentifierUri|sector/i,
    ],
    [
      'SSRF via jwks_uri',
      { jwks_uri: 'http://169.254.169.254/jwks', token_endpoint_auth_method: 'private_key_jwt' },
      /jwks/i,
    ],
    ['SSRF via backchannel_logout_uri', { backchannel_logout_uri: 'http://10.0.0.1/logout' }, /backchannelLogoutUrl/],
    ['SSRF via request_uris', { request_uris: ['https://evil.example/request'] }, /requestUris/],
    ['logo_uri that is not https', { logo_uri: 'http://evil.example/logo.png' }, /logoUri/],
    ['policy_uri with a script', { policy_uri: 'javascript:alert(1)' }, /policyUri/],
  ];
  for (const [name, metadata, rule] of abuses) {
    it(`refuses ${name}, and Keycloak's event names the rule`, async () => {
      const response = await register(metadata);
      assert.equal(response.status, 403, `${name}: ${await response.clone().text()}`);
      assert.match(await lastRegistrationRefusal(), rule);
    });
  }

  it('refuses the client_credentials grant to a registrant, so no token stands for nobody', async () => {
    const response = await register({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'mcp:tools',
    });
    assert.equal(
      response.status,
      201,
      'Keycloak has no registration-time rule for grant types; the token endpoint refuses',
    );
    const client = (await response.json()) as { client_id: string; client_secret: string };
    const token = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'mcp:tools' }),
    });
    assert.equal(token.status, 400);
    assert.deepEqual(await token.json(), { error: 'invalid_request', error_description: 'Request not allowed' });
  });

  it('offers no device grant and no Keycloak-format registration endpoint', async () => {
    const discovery = (await (await fetch(`${stack().urls.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(discovery.device_authorization_endpoint, undefined);
    const device = await register({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] });
    const { client_id } = (await device.json()) as { client_id: string };
    const start = await fetch(`${stack().urls.issuer}/protocol/openid-connect/auth/device`, {
      method: 'POST',
      body: new URLSearchParams({ client_id, scope: 'mcp:tools' }),
    });
    assert.ok(!(await start.text()).includes('device_code'), 'a device code was issued');
    const keycloakFormat = await fetch(`${stack().urls.issuer}/clients-registrations/default`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: 'e2e-keycloak-format',
        redirectUris: ['http://127.0.0.1/cb'],
        attributes: { 'access.token.lifespan': '99999999' },
      }),
    });
    assert.equal(keycloakFormat.status, 404);
  });

  it('refuses the CIBA grant to a registrant: only the MCP server may send approval requests to a device', async () => {
    for (const token_endpoint_auth_method of ['client_secret_basic', 'none']) {
      const response = await register({
        token_endpoint_auth_method,
        grant_types: ['authorization_code', 'urn:openid:params:grant-type:ciba'],
      });
      assert.equal(response.status, 403, token_endpoint_auth_method);
      assert.match(await response.text(), /CIBA grant .* is reserved for the MCP server's client/);
    }
    // The same registration without the CIBA grant is accepted (the refusal is about CIBA, not the rest).
    assert.equal((await register({ grant_types: ['authorization_code'] })).status, 201);
  });

  it('refuses scopes outside the Allowed Client Scopes policy', async () => {
    for (const scope of ['mcp:tools stock-api-audience', 'stock-api-audience']) {
      const response = await register({ scope });
      assert.equal(response.status, 403, scope);
      assert.match(await response.text(), /Allowed Client Scopes/);
    }
  });
});

describe('security: only tokens that stand for a signed-in user', () => {
  it('refuses a real service-account token even when the realm guard against client_credentials is lifted', async () => {
    // The realm refuses client_credentials (policy no-service-account-tokens; tested in security-boundaries). Lift it
    // for one token, as a misconfigured realm would, to prove the MCP server's own rule: no `sid`, no tool call.
    const policies = (await (await adminApi('/client-policies/policies')).json()) as {
      policies: Array<{ name: string }>;
    };
    assert.ok(
      policies.policies.some((p) => p.name === 'no-service-account-tokens'),
      'the realm guard is missing',
    );
    const clientId = `e2e-service-account-${Date.now()}`;
    let token: string;
    try {
      const lifted = await adminApi('/client-policies/policies', {
        method: 'PUT',
        body: JSON.stringify({ policies: policies.policies.filter((p) => p.name !== 'no-service-account-tokens') }),
      });
      assert.equal(lifted.status, 204);
      const created = await adminApi('/clients', {
        method: 'POST',
        body: JSON.stringify({
          clientId,
          secret: 'e2e-service-account-secret',
          publicClient: false,
          serviceAccountsEnabled: true,
          standardFlowEnabled: false,
          defaultClientScopes: ['basic', 'profile', 'mcp:tools'],
        }),
      });
      assert.equal(created.status, 201, await created.text());
      // mcp:tools is granted only to users holding viewer or trader: give the service account viewer, so its token
      // carries the MCP audience and only the missing user session can refuse it.
      const [client] = (await (await adminApi(`/clients?clientId=${clientId}`)).json()) as Array<{ id: string }>;
      const serviceUser = (await (await adminApi(`/clients/${client?.id}/service-account-user`)).json()) as {
        id: string;
      };
      const viewer = await (await adminApi('/roles/viewer')).json();
      const granted = await adminApi(`/users/${serviceUser.id}/role-mappings/realm`, {
        method: 'POST',
        body: JSON.stringify([viewer]),
      });
      assert.equal(granted.status, 204, await granted.text());
      const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: 'e2e-service-account-secret',
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      token = ((await response.json()) as { access_token: string }).access_token;
      recordToken(token);
    } finally {
      await adminApi('/client-policies/policies', { method: 'PUT', body: JSON.stringify(policies) });
      const [client] = (await (await adminApi(`/clients?clientId=${clientId}`)).json()) as Array<{ id: string }>;
      if (client) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
    }
    const claims = decodeClaims(token);
    assert.ok(
      ([] as string[]).concat((claims.aud as string[] | string | undefined) ?? []).includes(stack().urls.mcp),
      'the token is for the MCP server, so only the sid rule can refuse it',
    );
    assert.equal(claims.sid, undefined);
    const refusal = await assertRefused(await whoami(token), 401, 'invalid_token', [token]);
    assert.match(refusal.headers.get('www-authenticate') ?? '', /no user session/);
    const restored = (await (await adminApi('/client-policies/policies')).json()) as {
      policies: Array<{ name: string }>;
    };
    assert.ok(
      restored.policies.some((p) => p.name === 'no-service-account-tokens'),
      'the realm guard was not restored',
    );
  });

  it("answers bob's place_order with a final tool error (he lacks the trader role), alice's with a step-up challenge", async () => {
    const bob = await trackedUserToken('bob', 'mcp:tools trade:read portfolio:read trade:write');
    assert.deepEqual((decodeClaims(bob).realm_access as { roles: string[] }).roles.sort(), ['viewer']);
    const order = toolCall('place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }, 3);
    const refused = await callMcp(bob, order);
    assert.equal(refused.status, 200, refused.text);
    assert.equal(refused.body.result?.isError, true);
    assert.match(toolText(refused), /bob cannot use place_order: .*"trader".*Signing in again will not change this/);
    const alice = await trackedUserToken('alice', 'mcp:tools trade:read portfolio:read');
    assert.equal((await whoami(alice)).status, 200, 'alice signed in'); // whoami: any valid token
    const stepUp = await rawPost(order, { authorization: `Bearer ${alice}` });
    await assertRefused(stepUp, 403, 'insufficient_scope', [alice]);
  });
});
