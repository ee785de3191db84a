// RFC 8693 token exchange at Keycloak (openid-client), cached until shortly before expiry, single-flight per key.
import * as oidc from 'openid-client';
import { ExchangeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { cacheKey, type CachedToken, type TokenCache } from './cache.ts';
import type { KeycloakClient } from './keycloak.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface ExchangeRequest {
  subjectToken: string;
  audience: string;
  scope: string;
  /** For logs only. */
  sub: string;
  tokenHash: string;
  /** Full SHA-256 of the subject token: keys the in-process cache in front of the shared one. */
  subjectSha256?: string;
}

export interface ExchangeResult {
  accessToken: string;
  cache: 'hit' | 'miss' | 'joined' | 'off';
  exchangeMs?: number;
}

export interface Exchanger {
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
}

/** The form parameters of the exchange request (besides grant_type and client authentication), RFC 8693 §2.1. */
export function exchangeParameters(request: Pick<ExchangeRequest, 'subjectToken' | 'audience' | 'scope'>) {
  return {
    subject_token: request.subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: request.audience,
    scope: request.scope,
  };
}

/** Keycloak's refusals, translated into what to check in the realm. */
export function translateExchangeError(
  error: unknown,
  realmHint: { clientId: string; audience: string; issuer: string },
): ExchangeError {
  if (error instanceof oidc.ResponseBodyError) {
    const description = error.error_description ?? '';
    const keycloakError = `${error.status} ${error.error}: ${description}`;
    if (/not within the token audience/i.test(description)) {
      return new ExchangeError(
        'subject_not_in_audience',
        `Keycloak refused the exchange: the user's token does not list "${realmHint.clientId}" in its audience.`,
        `In the realm, the MCP server's client ID must be the MCP resource URL that the client scope mcp:tools puts into aud (its audience mapper "included.custom.audience"), or CLIENT_ID must name a client that scope adds to aud; the server uses "${realmHint.clientId}".`,
        { keycloakError },
      );
    }
    if (/audience not available/i.test(description)) {
      return new ExchangeError(
        'audience_not_available',
        `Keycloak refused the exchange: audience "${realmHint.audience}" is not available to ${realmHint.clientId}.`,
        `Give client ${realmHint.clientId} the default client scope stock-api-audience (audience mapper to client ${realmHint.audience}), and make sure a client named ${realmHint.audience} exists.`,
        { keycloakError },
      );
    }
    if (/token exchange is not enabled/i.test(description)) {
      return new ExchangeError(
        'exchange_not_enabled',
        `Keycloak refused the exchange: standard token exchange is not enabled for client ${realmHint.clientId}.`,
        `In the realm, turn on Standard token exchange for client ${realmHint.clientId} (Advanced tab; attribute standard.token.exchange.enabled=true).`,
        { keycloakError },
      );
    }
    if (error.error === 'invalid_scope') {
      return new ExchangeError(
        'scope_refused',
        `Keycloak refused the requested scope: ${description || 'invalid_scope'}.`,
        `The user's token must already carry the scope (the realm forbids up-scoping on exchange), the user needs the realm role the client scope maps to (trade:write needs "trader"), and ${realmHint.clientId} must have the scope as an optional client scope.`,
        { keycloakError },
      );
    }
    if (/invalid token/i.test(description) || error.error === 'invalid_token') {
      return new ExchangeError(
        'subject_token_invalid',
        'Keycloak no longer accepts your access token (expired, revoked, or the session was logged out).',
        'Sign in again to get a new access token.',
        { keycloakError },
      );
    }
    if (error.error === 'invalid_client' || error.error === 'unauthorized_client') {
      return new ExchangeError(
        'client_auth_failed',
        `Keycloak rejected the MCP server's own client credentials (${error.error}).`,
        `Check CLIENT_ID/CLIENT_SECRET against client ${realmHint.clientId} in the realm, and that standard.token.exchange.enabled is on for it.`,
        { keycloakError },
      );
    }
    return new ExchangeError(
      'exchange_failed',
      `Keycloak refused the token exchange: ${error.error}${description ? ` (${description})` : ''}.`,
      'See docs/troubleshooting.md for the realm settings token exchange needs.',
      { keycloakError },
    );
  }
  const message = (error as Error)?.message ?? String(error);
  return new ExchangeError(
    'keycloak_unreachable',
    `Keycloak could not be reached for token exchange (${message}).`,
    `Check that Keycloak is running at ${realmHint.issuer} (GET /readyz on this server shows the state); then retry.`,
    { cause: error },
  );
}

export interface ExchangerOptions {
  keycloak: KeycloakClient;
  cache: TokenCache;
  metrics: Metrics;
  logger: Logger;
  clientId: string;
  issuer: string;
  cacheSkewSeconds: number;
  now?: () => number;
}

/**
 * RFC 8693 token exchange at Keycloak with a cache in front and single-flight for concurrent misses; Keycloak's
 * refusals become ExchangeErrors that name the realm setting to check.
 *
 *   const exchanger = createExchanger({ keycloak, cache, metrics, logger, clientId: 'http://localhost:3000/mcp', issuer, cacheSkewSeconds: 30 });
 *   const { accessToken, cache } = await exchanger.exchange({ subjectToken, subjectSha256, audience: 'stock-api', scope: 'trade:read', sub, tokenHash });
 */
export function createExchanger(options: ExchangerOptions): Exchanger {
  const { keycloak, cache, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, Promise<CachedToken>>();
  // In-process cache in front of the shared one (Redis): a warm call costs a map lookup, not a network round trip.
  const local = new Map<string, CachedToken>();
  const LOCAL_MAX = 10_000;
  const remember = (key: string, token: CachedToken) => {
    if (cache.kind === 'off') return;
    if (local.size >= LOCAL_MAX) local.delete(local.keys().next().value as string);
    local.set(key, token);
  };
  const fresh = (token: CachedToken | undefined) =>
    token !== undefined && token.expiresAt - options.cacheSkewSeconds * 1000 > now();

  async function exchangeAtKeycloak(request: ExchangeRequest): Promise<CachedToken> {
    const started = performance.now();
    try {
      const config = await keycloak.configuration();
      const response = await oidc.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, exchangeParameters(request));
      metrics.exchanges += 1;
      const granted = response.scope ?? '';
      const missing = request.scope.split(' ').filter((s) => s && !granted.split(' ').includes(s));
      if (missing.length) {
        throw new ExchangeError(
          'scope_refused',
          `Keycloak issued a token without ${missing.join(', ')}.`,
          "Check the user's realm roles and the scope mappings of those client scopes.",
        );
      }
      const expiresIn = response.expires_in ?? 60;
      const token: CachedToken = {
        accessToken: response.access_token,
        expiresAt: now() + expiresIn * 1000,
        scope: granted,
      };
      const ttl = expiresIn - options.cacheSkewSeconds;
      await cache.set(request.subjectToken, request.audience, request.scope, token, ttl);
      logger.log('info', 'token exchanged', {
        sub: request.sub,
        subjectTokenHash: request.tokenHash,
        audience: request.audience,
        scope: request.scope,
        expiresIn,
        exchangeMs: Math.round(performance.now() - started),
        cache: cache.kind,
      });
      return token;
    } catch (error) {
      metrics.exchangeErrors += 1;
      const translated =
        error instanceof ExchangeError
          ? error
          : translateExchangeError(error, {
              clientId: options.clientId,
              audience: request.audience,
              issuer: options.issuer,
            });
      logger.log('warn', 'token exchange failed', {
        sub: request.sub,
        subjectTokenHash: request.tokenHash,
        audience: request.audience,
        scope: request.scope,
        exchangeMs: Math.round(performance.now() - started),
        ...translated.toLogObject(),
      });
      throw translated;
    }
  }

  return {
    async exchange(request) {
      const localKey = `${request.subjectSha256 ?? cacheKey(request.subjectToken, '', '')}\n${request.audience}\n${request.scope}`;
      const inProcess = local.get(localKey);
      if (fresh(inProcess)) {
        metrics.cacheHits += 1;
        return { accessToken: (inProcess as CachedToken).accessToken, cache: 'hit' };
      }
      if (inProcess) local.delete(localKey);
      const cached = await cache.get(request.subjectToken, request.audience, request.scope);
      if (cached && fresh(cached)) {
        metrics.cacheHits += 1;
        remember(localKey, cached);
        return { accessToken: cached.accessToken, cache: 'hit' };
      }
      if (cache.kind === 'off') {
        // Benchmarks only (EXCHANGE_CACHE=off): every call exchanges at Keycloak, no sharing between calls either.
        const started = performance.now();
        const token = await exchangeAtKeycloak(request);
        return { accessToken: token.accessToken, cache: 'off', exchangeMs: Math.round(performance.now() - started) };
      }
      metrics.cacheMisses += 1;
      const key = localKey;
      const pending = inFlight.get(key);
      if (pending) {
        metrics.singleFlightJoins += 1;
        return { accessToken: (await pending).accessToken, cache: 'joined' };
      }
      const started = performance.now();
      const promise = exchangeAtKeycloak(request)
        .then((token) => {
          remember(key, token);
          return token;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, promise);
      const token = await promise;
      return { accessToken: token.accessToken, cache: 'miss', exchangeMs: Math.round(performance.now() - started) };
    },
  };
}
