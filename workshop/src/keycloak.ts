// Keycloak for the workshop tools: the admin REST API (labs change the realm through it, the doctor reads it) and
// real user tokens for the lab probes, from a probe client the tools create through that API (the shipped realm has
// no password grant; `make lab-reset` deletes the probe client again).
import * as oidc from 'openid-client';
import { ADMIN, keycloakAdmin, REALM, SANDBOX_USERS } from '@sandbox/stack';

export const PROBE_CLIENT_ID = 'workshop-probe';

export interface Keycloak {
  url: string;
  /** The admin API of the sandbox realm (`path` after /admin/realms/sandbox); throws on an error status. */
  admin<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** A real access token for a sandbox user, with `scope`. */
  userToken(user: 'alice' | 'bob', scope: string): Promise<{ accessToken: string; refreshToken?: string }>;
  /** A refresh grant through the probe client. */
  refresh(refreshToken: string): Promise<{ accessToken: string; refreshToken?: string }>;
  issuer: string;
}

export class WorkshopError extends Error {
  override name = 'WorkshopError';
}

export function connectKeycloak(url: string, credentials = ADMIN): Keycloak {
  const session = keycloakAdmin(url, credentials);

  async function admin<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    let response: Response;
    try {
      response = await session.fetch(`/${REALM}${path}`, {
        method: init.method ?? 'GET',
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    } catch (error) {
      throw new WorkshopError((error as Error).message);
    }
    if (!response.ok)
      throw new WorkshopError(
        `Keycloak admin API ${init.method ?? 'GET'} ${path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`,
      );
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const issuer = `${url}/realms/${REALM}`;
  let configuration: Promise<oidc.Configuration> | undefined;
  async function probeClient(): Promise<oidc.Configuration> {
    const existing = await admin<unknown[]>(`/clients?clientId=${PROBE_CLIENT_ID}`);
    if (existing.length === 0)
      await admin('/clients', {
        method: 'POST',
        body: {
          clientId: PROBE_CLIENT_ID,
          description: 'Created by the workshop labs to get user tokens without a browser; make lab-reset deletes it.',
          publicClient: true,
          directAccessGrantsEnabled: true,
          standardFlowEnabled: false,
          fullScopeAllowed: false,
          defaultClientScopes: ['basic', 'profile', 'mcp:tools'],
          optionalClientScopes: ['portfolio:read', 'trade:read', 'trade:write', 'offline_access'],
        },
      });
    configuration ??= oidc.discovery(new URL(issuer), PROBE_CLIENT_ID, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    return configuration;
  }
  const tokens = (response: oidc.TokenEndpointResponse) => ({
    accessToken: response.access_token,
    ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
  });

  return {
    url,
    issuer,
    admin,
    async userToken(user, scope) {
      const password = SANDBOX_USERS.find((u) => u.username === user)?.password ?? '';
      return tokens(
        await oidc.genericGrantRequest(await probeClient(), 'password', { username: user, password, scope }),
      );
    },
    async refresh(refreshToken) {
      return tokens(await oidc.refreshTokenGrant(await probeClient(), refreshToken));
    },
  };
}
