// Real user tokens from the sandbox realm for another project's tests. The shipped realm has no password grant, so the
// first call creates a public test client that has one (through Keycloak's admin API, as the e2e harness does), and
// one more per extra audience: a custom audience mapper puts the caller's MCP resource URL into `aud`. Tokens are
// returned, never logged. Works with any running sandbox: `make up`, the compose file, startSandbox().
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { ADMIN, keycloakAdmin, REALM, SANDBOX_USERS } from '@sandbox/stack';

export type SandboxUser = 'alice' | 'bob';

export interface UserTokens {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** The scope Keycloak granted (it drops optional scopes the client or user may not have). */
  scope: string;
}

export interface TokenOptions {
  /**
   * Also put this URL into the token's `aud` (your MCP server's resource URL, exactly as its protected-resource
   * metadata names it). Without it `aud` is the sandbox's own resource (`http://localhost:3000/mcp`), through the
   * audience mappers of the realm's MCP scopes.
   */
  audience?: string;
}

export interface SandboxTokens {
  userTokens(user: SandboxUser, scope: string, options?: TokenOptions): Promise<UserTokens>;
  /** Deletes the test clients this helper created (a later call creates them again). */
  cleanup(): Promise<void>;
}

export class SandboxTokenError extends Error {
  override name = 'SandboxTokenError';
}

/** The test client's ID: `ci-harness`, or `ci-harness-<hash of the audience>` for an extra audience. */
export function harnessClientId(audience?: string): string {
  if (!audience) return 'ci-harness';
  return `ci-harness-${createHash('sha256').update(audience).digest('hex').slice(0, 12)}`;
}

/** `keycloak`: Keycloak's base URL as the host reaches it, e.g. `http://localhost:8080`. */
export function sandboxTokens(keycloak: string, admin = ADMIN): SandboxTokens {
  const issuer = `${keycloak}/realms/${REALM}`;
  const session = keycloakAdmin(keycloak, admin);
  const created = new Map<string, Promise<string>>();
  const configs = new Map<string, Promise<oidc.Configuration>>();

  async function adminApi(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await session.fetch(`/${REALM}${path}`, init);
    } catch (error) {
      throw new SandboxTokenError((error as Error).message);
    }
  }

  /** Creates the test client once (409: a previous run left it, which is fine); resolves to its client ID. */
  function ensureClient(audience?: string): Promise<string> {
    const clientId = harnessClientId(audience);
    let pending = created.get(clientId);
    if (!pending) {
      pending = (async () => {
        const response = await adminApi('/clients', {
          method: 'POST',
          body: JSON.stringify({
            clientId,
            description: 'test client of @sandbox/checks sandboxTokens(): password grant for CI tests',
            publicClient: true,
            directAccessGrantsEnabled: true,
            standardFlowEnabled: false,
            fullScopeAllowed: false,
            defaultClientScopes: ['basic', 'profile', 'mcp:tools'],
            optionalClientScopes: ['portfolio:read', 'trade:read', 'trade:write'],
            protocolMappers: audience
              ? [
                  {
                    name: 'audience: caller resource',
                    protocol: 'openid-connect',
                    protocolMapper: 'oidc-audience-mapper',
                    config: { 'included.custom.audience': audience, 'access.token.claim': 'true' },
                  },
                ]
              : [],
          }),
        });
        if (response.status !== 201 && response.status !== 409)
          throw new SandboxTokenError(`creating test client ${clientId} failed: ${response.status}`);
        return clientId;
      })();
      pending.catch(() => created.delete(clientId));
      created.set(clientId, pending);
    }
    return pending;
  }

  function config(clientId: string): Promise<oidc.Configuration> {
    let pending = configs.get(clientId);
    if (!pending) {
      pending = oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      });
      configs.set(clientId, pending);
    }
    return pending;
  }

  return {
    async userTokens(user, scope, options = {}) {
      const known = SANDBOX_USERS.find((u) => u.username === user);
      if (!known) throw new SandboxTokenError(`unknown sandbox user "${user}"; the users are alice and bob`);
      const clientId = await ensureClient(options.audience);
      const response = await oidc.genericGrantRequest(await config(clientId), 'password', {
        username: user,
        password: known.password,
        scope: `openid ${scope}`,
      });
      return {
        accessToken: response.access_token,
        refreshToken: response.refresh_token,
        idToken: response.id_token,
        scope: response.scope ?? '',
      };
    },
    async cleanup() {
      for (const clientId of created.keys()) {
        const found = (await (await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as Array<{
          id: string;
        }>;
        for (const client of found) await adminApi(`/clients/${client.id}`, { method: 'DELETE' });
      }
      created.clear();
      configs.clear();
    },
  };
}
