// Web-standard auth functions: take the bearer token from a request, verify it is an exchanged token.
import { errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { ApiError } from './errors.ts';

export const ALLOWED_ALGORITHMS = Object.freeze(['RS256', 'PS256', 'ES256']);
const CLOCK_TOLERANCE_SECONDS = 5;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const HOW_TO_SEND = 'send "Authorization: Bearer <token>"';

export type VerifyExchangedTokenOptions = {
  /** Key lookup: createRemoteJWKSet in production, createLocalJWKSet in tests. */
  keys: JWTVerifyGetKey;
  /** Expected `iss`, compared exactly. */
  issuer: string;
  /** Value `aud` must contain. */
  audience: string;
  /** Expected `azp`: the client that performed the token exchange. */
  exchangeClientId: string;
  /** Clock override for tests. */
  currentDate?: Date;
};

export type ExchangedClaims = Readonly<{
  sub: string;
  azp: string;
  aud: readonly string[];
  scopes: readonly string[];
  jti: string | undefined;
  username: string | undefined;
  exp: number;
}>;

/**
 * Returns the bearer token from the Authorization header only.
 * Rejects query-string tokens, other schemes, and multiple or comma-joined values.
 */
export function extractBearerToken(request: Request): string {
  const header = request.headers.get('authorization');
  const inQuery = new URL(request.url).searchParams.has('access_token');
  if (inQuery && header !== null) {
    throw new ApiError('malformed_authorization', 'Send the token in exactly one place: the Authorization header.');
  }
  if (inQuery) {
    throw new ApiError('missing_token', `Tokens in the query string are not accepted; ${HOW_TO_SEND}.`);
  }
  if (header === null || header.trim() === '') {
    throw new ApiError('missing_token', `Missing Authorization header; ${HOW_TO_SEND}.`);
  }
  if (header.includes(',')) {
    throw new ApiError(
      'malformed_authorization',
      'Multiple Authorization values are not accepted; send exactly one bearer token.',
    );
  }
  const [scheme = '', ...rest] = header.trim().split(/\s+/);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new ApiError(
      'missing_token',
      `Authorization scheme "${scheme.slice(0, 20)}" is not supported; ${HOW_TO_SEND}.`,
    );
  }
  const [token] = rest;
  if (token === undefined || rest.length !== 1 || !B64TOKEN.test(token)) {
    throw new ApiError('invalid_token', 'The bearer token is malformed.');
  }
  return token;
}

/**
 * Verifies that `token` is an access token Keycloak minted by token exchange (RFC 8693) for this API:
 * signature and `iss`/`exp`, then `typ` = Bearer, `aud` ∋ audience, `azp` = exchange client, `aud` = exactly the
 * audience, `sub` present.
 * Throws ApiError with a specific code and message.
 */
export async function verifyExchangedToken(
  token: string,
  options: VerifyExchangedTokenOptions,
): Promise<ExchangedClaims> {
  const { issuer, audience, exchangeClientId } = options;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer,
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
      ...(options.currentDate ? { currentDate: options.currentDate } : {}),
    }));
  } catch (err) {
    throw joseToApiError(err, issuer);
  }

  if (payload.typ !== 'Bearer') {
    throw new ApiError(
      'wrong_token_type',
      `Token type ${show(payload.typ)} is not accepted; "typ" must be "Bearer" (an access token, not an ID or refresh token).`,
    );
  }

  const aud = toStringArray(payload.aud);
  const azp = typeof payload.azp === 'string' ? payload.azp : undefined;
  const exchangeRule = `The stock API only accepts tokens that the MCP server ("${exchangeClientId}") obtained by token exchange (RFC 8693) for audience "${audience}".`;
  if (!aud.includes(audience)) {
    const isMcpToken = aud.includes(exchangeClientId) || (azp !== undefined && azp !== exchangeClientId);
    const found = `aud: ${aud.length ? aud.slice(0, 5).map(show).join(', ') : '(none)'}; azp: ${show(azp)}`;
    throw new ApiError(
      'wrong_audience',
      isMcpToken
        ? `Wrong audience: this is the MCP server's token (${found}), not one for "${audience}". ${exchangeRule} Never pass the client's token downstream.`
        : `Wrong audience (${found}). ${exchangeRule}`,
    );
  }
  if (azp !== exchangeClientId) {
    throw new ApiError(
      'not_exchanged',
      `Token was not obtained by the MCP server: azp is ${show(azp)}, must be "${exchangeClientId}". ${exchangeRule}`,
    );
  }
  // An exchange for this audience yields exactly this audience. A token the MCP server got for itself (its CIBA
  // approval token: aud = [the MCP resource, stock-api]) is not an exchanged one, even with the right azp.
  if (aud.length !== 1) {
    throw new ApiError(
      'not_exchanged',
      `Token has several audiences (${aud.slice(0, 5).map(show).join(', ')}); an exchanged token has exactly "${audience}". ${exchangeRule}`,
    );
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new ApiError('invalid_token', 'Token has no "sub" claim; the stock API needs the user\'s id.');
  }

  return Object.freeze({
    sub: payload.sub,
    azp,
    aud: Object.freeze(aud),
    scopes: Object.freeze(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []),
    jti: typeof payload.jti === 'string' ? payload.jti : undefined,
    username: typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined,
    exp: payload.exp as number,
  });
}

function joseToApiError(err: unknown, issuer: string): ApiError {
  const cause = { cause: err, detail: err instanceof Error ? err.message : String(err) };
  if (err instanceof errors.JWTExpired) return new ApiError('invalid_token', 'The token has expired.', cause);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') {
      return new ApiError(
        'invalid_token',
        `Token issuer ${show(err.payload.iss)} is not trusted; "iss" must be "${issuer}".`,
        cause,
      );
    }
    return new ApiError('invalid_token', `Token claim "${err.claim}" is invalid: ${err.reason}.`, cause);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new ApiError(
      'invalid_token',
      `Token algorithm is not allowed; use one of ${ALLOWED_ALGORITHMS.join(', ')}.`,
      cause,
    );
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new ApiError('invalid_token', 'Token was not signed by a key of the trusted issuer.', cause);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new ApiError('invalid_token', 'The token signature is invalid.', cause);
  }
  // Key-set fetch problems (timeouts, bad JWKS, network errors) are ours, not the caller's.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError)) {
    return new ApiError('keys_unavailable', 'Signing keys are unavailable; try again later.', cause);
  }
  return new ApiError('invalid_token', 'The token is malformed.', cause);
}

function toStringArray(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Quotes an untrusted claim value for a message, bounded in length. */
function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}
