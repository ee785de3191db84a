// Keycloak for the workshop tools: the admin REST API (labs change the realm through it, the doctor reads it) and
// real user tokens for the lab probes, from a probe client the tools create through that API (the shipped realm has
// no password grant; `make lab-reset` deletes the probe client again).
import * as oidc from 'openid-client';
import { ADMIN, REALM, SANDBOX_USERS } from '@sandbox/stack';

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
  let cached: { token: string; until: number } | undefined;
  async function adminToken(): Promise<string> {
    if (cached && Date.now() < cached.until) return cached.token;
    let response: Response;
    try {
      response = await fetch(`${url}/realms/master/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'admin-cli',
          username: credentials.username,
          password: credentials.password,
        }),
      });
    } catch (error) {
      throw new WorkshopError(
        `Keycloak is not answering at ${url} (${(error as Error).message}). Start the stack with make up, or pass --keycloak.`,
      );
    }
    if (!response.ok)
      throw new WorkshopError(
        `Keycloak refused the admin login (${response.status}); the sandbox admin is ${ADMIN.username}/${ADMIN.password}.`,
      );
    const body = (await response.json()) as { access_token: string; expires_in: number };
    cached = { token: body.access_token, until: Date.now() + (body.expires_in - 10) * 1000 };
    return cached.token;
  }

  async function admin<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const response = await fetch(`${url}/admin/realms/${REALM}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
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
