// Verify a bearer token as an access token for this MCP resource (pure: no Hono, no I/O beyond the key source).
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthError } from '../errors.ts';
import { createHash } from 'node:crypto';

export interface Principal {
  sub: string;
  username: string | undefined;
  clientId: string | undefined;
  scopes: readonly string[];
  jti: string | undefined;
  /** Keycloak's user session (`sid`): present on every token a user's login produced, absent on service accounts. */
  sessionId: string | undefined;
  /**
   * A machine (client_credentials) token of one of the pre-registered machine clients (MACHINE_CLIENTS): it stands
   * for the client, not a person, so only tools marked `machine` accept it (mcp/tools.ts).
   */
  machine: boolean;
  /** DPoP (RFC 9449): the thumbprint of the key this token is bound to (`cnf.jkt`); absent for a bearer token. */
  jkt?: string;
  /**
   * The user's realm roles as the token lists them (`realm_access.roles`, which the realm's `mcp:tools` scope adds), or
   * undefined when the token has no such claim (another issuer's shape): then no refusal is treated as final.
   */
  roles: readonly string[] | undefined;
  exp: number;
  /** SHA-256 prefix of the raw token: for logs, never the token itself. */
  tokenHash: string;
  /**
   * Full SHA-256 (base64url) of the token: the exchange cache key for this subject token. Only the canonical spelling
   * is accepted (isCanonicalCompactJws), so one JWT has one key.
   */
  tokenSha256: string;
}

export interface VerifyOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  resource: string;
  maxTokenBytes: number;
  algorithms?: string[];
  clockToleranceSeconds?: number;
  /** Client ids whose service-account tokens (no `sid`) are accepted as machine principals; none by default. */
  machineClients?: readonly string[];
}

export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

function explain(error: unknown, options: VerifyOptions): AuthError {
  if (error instanceof errors.JWTExpired)
    return new AuthError('invalid_token', 'The access token has expired; obtain a new one (refresh or re-authorize).', {
      cause: error,
    });
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'aud')
      return new AuthError(
        'invalid_token',
        `The access token is not for this resource: its audience must include ${options.resource}. Request it with the mcp:tools scope (which adds this audience) from the realm's issuer.`,
        { cause: error, logDetail: error.message },
      );
    if (claim === 'iss')
      return new AuthError(
        'invalid_token',
        `The access token was issued by another issuer; this server accepts only ${options.issuer}.`,
        { cause: error, logDetail: error.message },
      );
    if (claim === 'nbf')
      return new AuthError('invalid_token', 'The access token is not valid yet (nbf is in the future).', {
        cause: error,
      });
    return new AuthError('invalid_token', `The access token's "${claim}" claim is missing or invalid.`, {
      cause: error,
      logDetail: error.message,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new AuthError(
      'invalid_token',
      `The access token's signing algorithm is not allowed (allowed: ${(options.algorithms ?? ALLOWED_ALGORITHMS).join(', ')}).`,
      { cause: error },
    );
  if (error instanceof errors.JWKSNoMatchingKey)
    return new AuthError('invalid_token', 'The access token was signed with a key the realm does not publish.', {
      cause: error,
    });
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new AuthError('invalid_token', 'The access token signature is invalid.', { cause: error });
  if (error instanceof errors.JWKSTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
    return new AuthError(
      'temporarily_unavailable',
      'Cannot fetch the realm signing keys from Keycloak to verify the token; retry shortly (see /readyz).',
      { cause: error, logDetail: String(error) },
    );
  }
  if (error instanceof errors.JOSEError)
    return new AuthError('invalid_token', 'The access token is not a valid signed JWT.', {
      cause: error,
      logDetail: error.message,
    });
  return new AuthError('temporarily_unavailable', 'Token verification failed unexpectedly; retry shortly.', {
    cause: error,
    logDetail: String(error),
  });
}

/**
 * Three parts of base64url characters: no padding, no whitespace, no other alphabet (RFC 7515 §2, §7.1). The
 * signature may be empty, so an unsigned (`alg: none`) token is refused by jose for its algorithm, which says more.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Whether `token` is a compact JWS spelled the one way RFC 7515 allows: unpadded base64url whose last character
 * leaves no unused bits set. jose decodes padded and non-canonical parts leniently, so a token re-spelled that way
 * would verify; it is refused here instead, and one JWT has one spelling (one cache key, one log hash).
 *
 *   isCanonicalCompactJws('eyJ….eyJ….sig')   // true
 *   isCanonicalCompactJws('eyJ….eyJ….sig=')  // false: padding
 */
export function isCanonicalCompactJws(token: string): boolean {
  return (
    COMPACT_JWS.test(token) &&
    token.split('.').every((part) => Buffer.from(part, 'base64url').toString('base64url') === part)
  );
}

function tokenDigests(token: string): { tokenHash: string; tokenSha256: string } {
  const digest = createHash('sha256').update(token).digest();
  return { tokenHash: digest.toString('hex', 0, 8), tokenSha256: digest.toString('base64url') };
}

export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<Principal> {
  if (Buffer.byteLength(token) > options.maxTokenBytes) {
    throw new AuthError('invalid_token', `The access token is larger than ${options.maxTokenBytes} bytes.`);
  }
  if (!isCanonicalCompactJws(token))
    throw new AuthError(
      'invalid_token',
      'The access token is not a compact JWS in unpadded base64url (RFC 7515): send the access_token exactly as Keycloak issued it.',
    );
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.resource,
      algorithms: options.algorithms ?? ALLOWED_ALGORITHMS,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    throw explain(error, options);
  }
  // Keycloak marks every token it issues with `typ`: only access tokens may call tools, "Bearer", or "DPoP" for one
  // bound to a key (it then carries cnf.jkt, and the middleware wants a proof with it).
  const boundJkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (payload.typ === 'DPoP' && typeof boundJkt !== 'string')
    throw new AuthError('invalid_token', 'This DPoP access token names no key (cnf.jkt); get a new token.');
  if (payload.typ !== 'Bearer' && payload.typ !== 'DPoP') {
    throw new AuthError(
      'invalid_token',
      `This is not an access token (typ is ${JSON.stringify(payload.typ ?? null)}); send the access_token, not the ID or refresh token.`,
    );
  }
  if (typeof payload.sub !== 'string' || payload.sub === '')
    throw new AuthError('invalid_token', 'The access token has no subject (sub).');
  // A tool call stands for a person: Keycloak puts the user session id in `sid` for every login-based token
  // (authorization code, refresh, offline), and leaves it out of client_credentials tokens. The one exception is a
  // pre-registered machine client's own service account (Keycloak names it service-account-<client id>).
  const sessionId = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
  const machine =
    sessionId === undefined &&
    typeof payload.azp === 'string' &&
    (options.machineClients ?? []).includes(payload.azp) &&
    payload.preferred_username === `service-account-${payload.azp}`.toLowerCase();
  if (sessionId === undefined && !machine)
    throw new AuthError(
      'invalid_token',
      `The access token stands for no user session (it has no "sid" claim) and its client ${JSON.stringify(payload.azp ?? null)} is not a machine client of this server: service-account (client_credentials) tokens call tools here only for the pre-registered machine clients (MACHINE_CLIENTS); sign in as a user with the authorization code flow.`,
    );
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const realmAccess = payload.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realmAccess?.roles)
    ? realmAccess.roles.filter((role): role is string => typeof role === 'string')
    : undefined;
  return {
    sub: payload.sub,
    username: typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined,
    clientId: typeof payload.azp === 'string' ? payload.azp : undefined,
    scopes: scope.split(' ').filter(Boolean),
    jti: payload.jti,
    sessionId,
    machine,
    ...(typeof boundJkt === 'string' ? { jkt: boundJkt } : {}),
    roles,
    exp: payload.exp as number,
    ...tokenDigests(token),
  };
}
