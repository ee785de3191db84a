// The sandbox Keycloak's admin REST API as every tool here reaches it (the e2e harness, the workshop labs and doctor,
// check-server, the CI token helper): a master-realm admin token from admin-cli (password grant, openid-client),
// reused until shortly before it expires (admin-cli tokens live 60 s).
import * as oidc from 'openid-client';
import { ADMIN } from './spec.ts';

export class KeycloakAdminError extends Error {
  override name = 'KeycloakAdminError';
}

export interface KeycloakAdmin {
  /** Keycloak's base URL as this process reaches it, e.g. http://localhost:8080. */
  readonly keycloak: string;
  token(): Promise<string>;
  /** `path` is below /admin/realms (e.g. `/sandbox/clients`); JSON content type and the bearer token are added. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 *   const admin = keycloakAdmin('http://localhost:8080');
 *   const clients = await (await admin.fetch('/sandbox/clients?clientId=stock-api')).json();
 */
export function keycloakAdmin(
  keycloak: string,
  credentials: { username: string; password: string } = ADMIN,
  /** How requests go out (default: the global fetch; the shared profile's suite maps its host to loopback). */
  fetchFn: typeof fetch = fetch,
): KeycloakAdmin {
  let cached: { token: string; until: number } | undefined;
  let configuration: Promise<oidc.Configuration> | undefined;

  async function token(): Promise<string> {
    if (cached && Date.now() < cached.until) return cached.token;
    configuration ??= oidc
      .discovery(new URL(`${keycloak}/realms/master`), 'admin-cli', undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
        ...(fetchFn === fetch ? {} : { [oidc.customFetch]: fetchFn as oidc.CustomFetch }),
      })
      .catch((error: Error) => {
        configuration = undefined;
        throw new KeycloakAdminError(
          `Keycloak is not answering at ${keycloak} (${error.message}); start the sandbox (make up) or point at the right URL.`,
        );
      });
    let response: oidc.TokenEndpointResponse;
    try {
      response = await oidc.genericGrantRequest(await configuration, 'password', {
        username: credentials.username,
        password: credentials.password,
      });
    } catch (error) {
      if (error instanceof KeycloakAdminError) throw error;
      throw new KeycloakAdminError(
        `Keycloak refused the admin login as ${credentials.username} (${(error as Error).message}); the sandbox admin is ${ADMIN.username}/${ADMIN.password}.`,
      );
    }
    cached = { token: response.access_token, until: Date.now() + ((response.expires_in ?? 60) - 10) * 1000 };
    return cached.token;
  }

  return {
    keycloak,
    token,
    async fetch(path, init = {}) {
      return fetchFn(`${keycloak}/admin/realms${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${await token()}`,
          'content-type': 'application/json',
          ...(init.headers as Record<string, string> | undefined),
        },
      });
    },
  };
}
