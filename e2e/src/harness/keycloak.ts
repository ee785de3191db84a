// Test-side Keycloak access: the admin API (to create the harness client at setup) and user tokens from real
// Keycloak grants. The shipped realm has no password grant; the harness client exists only in test runs.
import * as oidc from 'openid-client';
import { keycloakAdmin, REALM, SANDBOX_USERS, type KeycloakAdmin } from '@sandbox/stack';
import { stack } from './stack.ts';

export const HARNESS_CLIENT_ID = 'e2e-harness';

let admin: KeycloakAdmin | undefined;
/** The admin session of the stack under test (one per Keycloak URL). */
function adminSession(): KeycloakAdmin {
  const keycloak = stack().urls.keycloak;
  if (admin?.keycloak !== keycloak) admin = keycloakAdmin(keycloak);
  return admin;
}

/** The admin REST API from its root (`/admin/realms`), for any realm. */
export function adminRoot(path: string, init: RequestInit = {}): Promise<Response> {
  return adminSession().fetch(path, init);
}

/** The admin REST API of the sandbox realm. */
export function adminApi(path: string, init: RequestInit = {}): Promise<Response> {
  return adminRoot(`/${REALM}${path}`, init);
}

/** Creates (once per stack) a public client allowed the password grant, with the same scopes as mcp-cli. */
export async function ensureHarnessClient(
  clientId = HARNESS_CLIENT_ID,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  const existing = await adminApi(`/clients?clientId=${encodeURIComponent(clientId)}`);
  if (((await existing.json()) as unknown[]).length > 0) return;
  const response = await adminApi('/clients', {
    method: 'POST',
    body: JSON.stringify({
      clientId,
      publicClient: true,
      directAccessGrantsEnabled: true,
      standardFlowEnabled: false,
      fullScopeAllowed: false,
      defaultClientScopes: ['basic', 'profile', 'mcp:tools'],
      optionalClientScopes: ['portfolio:read', 'trade:read', 'trade:write'],
      ...overrides,
    }),
  });
  if (response.status !== 201 && response.status !== 409)
    throw new Error(`creating ${clientId} failed: ${response.status} ${await response.text()}`);
}

let configuration: Promise<oidc.Configuration> | undefined;
function harnessConfig(): Promise<oidc.Configuration> {
  configuration ??= oidc.discovery(new URL(stack().urls.issuer), HARNESS_CLIENT_ID, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return configuration;
}

export interface UserTokens {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  scope: string;
}

export async function userTokens(username: 'alice' | 'bob', scope: string): Promise<UserTokens> {
  await ensureHarnessClient();
  const user = SANDBOX_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`unknown sandbox user ${username}`);
  const response = await oidc.genericGrantRequest(await harnessConfig(), 'password', {
    username,
    password: user.password,
    scope: `openid ${scope}`,
  });
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
    scope: response.scope ?? '',
  };
}

export async function userToken(username: 'alice' | 'bob', scope: string): Promise<string> {
  return (await userTokens(username, scope)).accessToken;
}

export function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
}

/**
 * Why Keycloak refused the latest anonymous registration: its DCR endpoint answers client-policy refusals with a
 * generic 403 body, and names the failed rule only in the CLIENT_REGISTER_ERROR event.
 */
export async function lastRegistrationRefusal(): Promise<string> {
  const events = (await (await adminApi('/events?type=CLIENT_REGISTER_ERROR&max=1')).json()) as Array<{
    error?: string;
    details?: Record<string, string>;
  }>;
  const [event] = events;
  if (!event) return '(no CLIENT_REGISTER_ERROR event)';
  return event.details?.client_policy_error_detail ?? event.details?.reason ?? event.error ?? '(no detail)';
}
