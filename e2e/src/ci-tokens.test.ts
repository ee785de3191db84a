// The token helper other projects get from the Testcontainers module (checks/src/sandbox/tokens.ts), against the real
// realm: its tokens verify with the realm's keys, carry the sandbox's resource or the caller's extra audience, and its
// test clients are gone after cleanup(). (The compose stage starts its stack through the same module's startSandbox.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { harnessClientId, sandboxTokens, SandboxTokenError } from '@sandbox/checks/testcontainers';
import { stack } from './harness/stack.ts';
import { adminApi } from './harness/keycloak.ts';

const CALLER_RESOURCE = 'http://localhost:3999/mcp';

describe('sandboxTokens (the Testcontainers module token helper)', () => {
  const tokens = sandboxTokens(stack().urls.keycloak);
  const keys = createRemoteJWKSet(new URL(`${stack().urls.issuer}/protocol/openid-connect/certs`));
  after(() => tokens.cleanup());

  it("gives alice a Keycloak-signed token for the sandbox's MCP resource with the scope asked for", async () => {
    const { accessToken, scope } = await tokens.userTokens('alice', 'mcp:tools trade:read');
    const { payload } = await jwtVerify(accessToken, keys, { issuer: stack().urls.issuer, audience: stack().urls.mcp });
    assert.equal(payload.preferred_username, 'alice');
    assert.match(scope, /\btrade:read\b/);
    assert.equal(payload.azp, harnessClientId());
  });

  it("puts the caller's resource URL into aud when asked, so the caller's own server can accept it", async () => {
    const { accessToken } = await tokens.userTokens('bob', 'mcp:tools', { audience: CALLER_RESOURCE });
    const { payload } = await jwtVerify(accessToken, keys, { issuer: stack().urls.issuer, audience: CALLER_RESOURCE });
    assert.equal(payload.preferred_username, 'bob');
    assert.equal(payload.azp, harnessClientId(CALLER_RESOURCE));
  });

  it('refuses a user the realm does not have, naming the users it has', async () => {
    await assert.rejects(
      tokens.userTokens('mallory' as 'alice', 'mcp:tools'),
      (error) => error instanceof SandboxTokenError && /alice and bob/.test(error.message),
    );
  });

  it('deletes its test clients on cleanup()', async () => {
    await tokens.userTokens('alice', 'mcp:tools');
    await tokens.cleanup();
    for (const clientId of [harnessClientId(), harnessClientId(CALLER_RESOURCE)]) {
      const found = (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as unknown[];
      assert.equal(found.length, 0, `${clientId} is still in the realm`);
    }
  });
});
