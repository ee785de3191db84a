// Keycloak as this device sees it: the realm's JWKS (jose), which verifies the channel token Keycloak sends with each
// CIBA request, and the user's sign-in (openid-client: authorization code + PKCE S256 with the realm's public client).
// The issuer stays the public URL; requests go to KEYCLOAK_INTERNAL_URL when one is configured (compose).
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { internalUrl, type Config } from './config.ts';

/** The signed-in user, as the realm's ID token names them. */
export interface DeviceUser {
  sub: string;
  username: string;
}

/** Sign-in with the realm; the unit tests pass a fake. */
export interface SignIn {
  /** Where to send the browser: the realm's authorization endpoint with PKCE S256 and `state`. */
  authorizationUrl(options: { state: string; codeChallenge: string; prompt?: 'login' }): Promise<URL>;
  /** Redeems the code in `callback` (checking `state` and the PKCE verifier) and names the user. */
  finish(callback: URL, checks: { state: string; verifier: string }): Promise<DeviceUser>;
}

const TIMEOUT_MS = 5000;

/** The realm's keys, fetched lazily from the JWKS and cached (a key Keycloak rotates in is fetched on first sight). */
export function realmKeys(config: Config): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(config.jwksUrl), {
    timeoutDuration: TIMEOUT_MS,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
}

/** Sign-in through the realm's public client CLIENT_ID; discovery is lazy and retried after a failure. */
export function realmSignIn(config: Config): SignIn {
  const issuerOrigin = new URL(config.ISSUER_URL).origin;
  const through = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(internalUrl(url, issuerOrigin, config.keycloakOrigin), {
      ...init,
      signal: init?.signal ?? AbortSignal.timeout(TIMEOUT_MS),
    });
  };
  let discovered: Promise<oidc.Configuration> | undefined;
  const client = () => {
    discovered ??= oidc
      .discovery(new URL(config.ISSUER_URL), config.CLIENT_ID, undefined, oidc.None(), {
        // Plain HTTP only for an http:// issuer (the sandbox's localhost Keycloak); an https issuer keeps every check.
        execute: config.ISSUER_URL.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        [oidc.customFetch]: through as never,
      })
      .then((found) => {
        found[oidc.customFetch] = through as never;
        return found;
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };
  return {
    async authorizationUrl({ state, codeChallenge, prompt }) {
      return oidc.buildAuthorizationUrl(await client(), {
        redirect_uri: config.redirectUri,
        scope: 'openid profile',
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state,
        ...(prompt ? { prompt } : {}),
      });
    },
    async finish(callback, { state, verifier }) {
      const tokens = await oidc.authorizationCodeGrant(await client(), callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('Keycloak returned no ID token');
      if (typeof claims.preferred_username !== 'string' || claims.preferred_username === '')
        throw new Error('the ID token names no preferred_username (the client needs the profile scope)');
      return { sub: claims.sub, username: claims.preferred_username };
    },
  };
}
