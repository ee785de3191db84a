// Thin Hono adapter over auth.ts: bearer-token and scope middleware.
import type { MiddlewareHandler } from 'hono';
import { extractBearerToken, verifyExchangedToken } from './auth.ts';
import type { ExchangedClaims, VerifyExchangedTokenOptions } from './auth.ts';
import { ApiError, errorResponse } from './errors.ts';
import { summarizeToken } from './received.ts';
import type { AuthDecision } from './received.ts';

export type AuthVariables = {
  /** Verified claims; set once requireExchangedToken accepts the token. */
  claims: ExchangedClaims | undefined;
  /** Why auth failed (token or scope); read by the decision record and the request log. */
  authFailure: ApiError | undefined;
};
export type AuthEnv = { Variables: AuthVariables };

export type RequireExchangedTokenOptions = Omit<VerifyExchangedTokenOptions, 'currentDate'> & {
  /** Called once per request with the auth decision (accepted, or rejected with a code). */
  onDecision?: (decision: AuthDecision) => void;
  /** Clock override for tests. */
  now?: () => Date;
};

/**
 * Accepts only tokens minted by token exchange for this API (see verifyExchangedToken),
 * read from the Authorization header only. Stores the claims in `c.var.claims`.
 */
export function requireExchangedToken(options: RequireExchangedTokenOptions): MiddlewareHandler<AuthEnv> {
  if (typeof options.keys !== 'function')
    throw new TypeError('requireExchangedToken: "keys" must be a JWTVerifyGetKey');
  for (const name of ['issuer', 'audience', 'exchangeClientId'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') {
      throw new TypeError(`requireExchangedToken: "${name}" must be a non-empty string`);
    }
  }
  const { keys, issuer, audience, exchangeClientId } = options;
  const onDecision = options.onDecision ?? (() => {});
  const now = options.now ?? (() => new Date());
  // Tokens that passed full verification, until they expire (5 s leeway, as in verification) or 5 minutes pass:
  // the MCP server reuses a cached exchanged token for many calls, and RS256 per call was most of this API's CPU.
  const verified = new Map<
    string,
    { claims: ExchangedClaims; summary: ReturnType<typeof summarizeToken>; until: number }
  >();

  return async function requireExchangedTokenMiddleware(c, next) {
    const route = `${c.req.method} ${c.req.path}`;
    let token: string | undefined;
    let summary: ReturnType<typeof summarizeToken> | undefined;
    try {
      token = extractBearerToken(c.req.raw);
      const currentDate = now();
      const hit = verified.get(token);
      if (hit && currentDate.getTime() < hit.until) {
        c.set('claims', hit.claims);
        summary = hit.summary;
      } else {
        if (hit) verified.delete(token);
        const claims = await verifyExchangedToken(token, { keys, issuer, audience, exchangeClientId, currentDate });
        c.set('claims', claims);
        summary = summarizeToken(token);
        if (verified.size >= 10_000) verified.delete(verified.keys().next().value as string);
        verified.set(token, {
          claims,
          summary,
          until: Math.min(claims.exp * 1000 + 5000, currentDate.getTime() + 300_000),
        });
      }
    } catch (err) {
      const failure =
        err instanceof ApiError ? err : new ApiError('internal_error', 'Internal server error.', { cause: err });
      c.set('authFailure', failure);
      onDecision({ at: now().toISOString(), route, accepted: false, code: failure.code, ...summarizeToken(token) });
      return errorResponse(failure);
    }
    try {
      await next();
    } finally {
      const failure = c.get('authFailure');
      onDecision({
        at: now().toISOString(),
        route,
        accepted: failure === undefined,
        ...(failure ? { code: failure.code } : {}),
        ...(summary ?? summarizeToken(token)),
      });
    }
  };
}

/** Requires `scope` among the verified token's scopes; 403 insufficient_scope naming it otherwise. */
export function requireScope(scope: string): MiddlewareHandler<AuthEnv> {
  if (typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
    throw new TypeError('requireScope: scope must be a single RFC 6749 scope token');
  }
  return async function requireScopeMiddleware(c, next) {
    const claims = c.get('claims');
    if (!claims) throw new Error('requireScope must run after requireExchangedToken');
    if (!claims.scopes.includes(scope)) {
      const have = claims.scopes.length ? claims.scopes.join(' ') : '(none)';
      const failure = new ApiError(
        'insufficient_scope',
        `This route requires scope "${scope}"; the token has: ${have}.`,
        { scope },
      );
      c.set('authFailure', failure);
      return errorResponse(failure);
    }
    await next();
  };
}
