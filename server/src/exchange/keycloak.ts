// Keycloak as seen from this server: OIDC discovery (openid-client), the JWKS (jose) and the metadata documents.
// The issuer is the public URL; requests go to the internal origin when one is configured (compose), by rewriting
// URLs in one custom fetch, so tokens still validate against the public issuer.
import { createRemoteJWKSet, customFetch as joseCustomFetch, type JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import type { Config } from '../config.ts';

export interface KeycloakClient {
  /** openid-client Configuration for mcp-server, discovered lazily and retried after failures. */
  configuration(): Promise<oidc.Configuration>;
  keys: JWTVerifyGetKey;
  /** Authorization-server metadata with public URLs, for the compatibility endpoints. Cached, refreshed every 10 min. */
  metadata(kind: 'oauth-authorization-server' | 'openid-configuration'): Promise<Record<string, unknown>>;
  /** Cheap reachability probe for /readyz. */
  probe(): Promise<{ ok: boolean; detail: string }>;
}

const METADATA_TTL_MS = 10 * 60_000;

/**
 * openid-client refuses plain-HTTP endpoints unless told otherwise: allow them only for an http:// issuer (the
 * sandbox's localhost Keycloak). An https issuer keeps every check, so a metadata document that downgrades an
 * endpoint to http is refused.
 */
export function discoveryHardening(issuer: string): Array<(config: oidc.Configuration) => void> {
  return new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
}

/** Keycloak for this server: lazy discovery, the JWKS, the metadata documents and a readiness probe, all through one fetch. */
export function createKeycloakClient(config: Config): KeycloakClient {
  const toInternal = (url: string) =>
    config.internalOrigin !== config.publicOrigin && url.startsWith(config.publicOrigin)
      ? config.internalOrigin + url.slice(config.publicOrigin.length)
      : url;
  const toPublic = (text: string) =>
    config.internalOrigin !== config.publicOrigin ? text.split(config.internalOrigin).join(config.publicOrigin) : text;
  // One fetch for openid-client, jose and the metadata proxy: rewrites public → internal origin, bounds the time.
  const timeoutFetch = (
    input: string | URL | Request,
    init?: { signal?: AbortSignal | null; [key: string]: unknown },
  ): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(toInternal(url), {
      ...(init as RequestInit),
      signal: init?.signal ?? AbortSignal.timeout(config.HTTP_TIMEOUT_MS),
    });
  };

  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(config.ISSUER_URL),
        config.CLIENT_ID,
        config.CLIENT_SECRET,
        oidc.ClientSecretBasic(config.CLIENT_SECRET),
        {
          execute: discoveryHardening(config.ISSUER_URL),
          [oidc.customFetch]: timeoutFetch as never,
          timeout: Math.ceil(config.HTTP_TIMEOUT_MS / 1000),
        },
      )
      .then((cfg) => {
        cfg[oidc.customFetch] = timeoutFetch as never;
        cfg.timeout = Math.ceil(config.HTTP_TIMEOUT_MS / 1000);
        return cfg;
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };

  const keys = createRemoteJWKSet(new URL(`${config.ISSUER_URL}/protocol/openid-connect/certs`), {
    timeoutDuration: config.HTTP_TIMEOUT_MS,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    [joseCustomFetch]: timeoutFetch as never,
  });

  const cache = new Map<string, { at: number; value: Record<string, unknown> }>();
  const metadata: KeycloakClient['metadata'] = async (kind) => {
    const hit = cache.get(kind);
    if (hit && Date.now() - hit.at < METADATA_TTL_MS) return hit.value;
    const url =
      kind === 'openid-configuration'
        ? `${config.ISSUER_URL}/.well-known/openid-configuration`
        : `${config.publicOrigin}/.well-known/oauth-authorization-server${new URL(config.ISSUER_URL).pathname}`;
    try {
      const response = await timeoutFetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status} from ${url}`);
      const value = JSON.parse(toPublic(await response.text())) as Record<string, unknown>;
      cache.set(kind, { at: Date.now(), value });
      return value;
    } catch (error) {
      if (hit) return hit.value; // serve stale rather than fail while Keycloak restarts
      throw error;
    }
  };

  const probe = async () => {
    try {
      const response = await timeoutFetch(`${config.ISSUER_URL}/protocol/openid-connect/certs`, {
        signal: AbortSignal.timeout(2000),
      });
      return response.ok
        ? { ok: true, detail: 'JWKS reachable' }
        : { ok: false, detail: `JWKS answered HTTP ${response.status}` };
    } catch (error) {
      return {
        ok: false,
        detail: `Keycloak unreachable at ${toInternal(config.ISSUER_URL)}: ${(error as Error).message}`,
      };
    }
  };

  return { configuration, keys, metadata, probe };
}
