// What Keycloak's CIBA HTTP authentication channel sends, and how this device knows Keycloak sent it.
//
// Keycloak 26.7.3, services/…/grants/ciba/channel/HttpAuthenticationChannelProvider.java, requestAuthentication():
// POST <channel URI> with JSON AuthenticationChannelRequest {login_hint, binding_message, scope, is_consent_required,
// acr_values, and the request's extra parameters} and `Authorization: Bearer <createBearerToken(...)>`, which is an
// AccessToken encoded by session.tokens().encode(): a JWS signed with the realm's key for access tokens (RS256 here;
// header typ "JWT"), with claims
//   typ "Bearer", iss = the realm issuer, jti = the request's auth_result_id, azp = the client that sent the CIBA
//   request, aud = the realm issuer, iat, exp = the request's expiry (iat + cibaExpiresIn), sub = the user's ID.
// login_hint is DefaultCIBALoginUserResolver.getInfoUsedByAuthentication(user): the username. The callback endpoint
// (BackchannelAuthenticationCallbackEndpoint.verifyAuthenticationRequest) accepts this same token back: it checks it
// is active, its issuer and its audience (the realm issuer), then finds the pending request by its jti.
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';

export const ALLOWED_ALGORITHMS = Object.freeze(['RS256', 'PS256', 'ES256']);
const CLOCK_TOLERANCE_S = 5;
const MAX_TOKEN_CHARS = 8192;

/** The JSON body (AuthenticationChannelRequest). Unknown members are the request's extra parameters; ignored. */
export const ChannelRequest = z.object({
  login_hint: z.string().min(1).max(255),
  binding_message: z.string().max(255).optional(),
  scope: z.string().max(1024).optional(),
  is_consent_required: z.boolean().optional(),
  acr_values: z.string().max(1024).optional(),
});

/** What the verified channel token says. */
export interface ChannelClaims {
  /** The user's ID in the realm. */
  sub: string;
  /** The request's auth_result_id: one channel request per value. */
  jti: string;
  /** The client that asked Keycloak (CIBA) to authenticate the user. */
  azp: string;
  /** When Keycloak's request expires (seconds since the epoch). */
  exp: number;
}

export type ChannelErrorCode = 'missing_token' | 'invalid_token';

/** A refused channel request: `message` is what the caller sees (never the token); the cause goes to the log. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  readonly code: ChannelErrorCode;
  constructor(code: ChannelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The bearer token of an Authorization header: exactly one `Bearer <token>`, else ChannelError. */
export function channelBearer(header: string | undefined): string {
  if (!header)
    throw new ChannelError('missing_token', "No bearer token: Keycloak's channel sends one with every request.");
  const match = /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(header);
  if (!match?.[1] || match[1].length > MAX_TOKEN_CHARS)
    throw new ChannelError('invalid_token', 'The Authorization header must be exactly "Bearer <JWS>".');
  return match[1];
}

/**
 * Verifies the channel token: the realm's signature, `iss` and `aud` = the issuer, `exp`, `typ` "Bearer", `azp` one of
 * `clients`, and `sub` and `jti` present. Throws ChannelError with a message that says which check failed.
 */
export async function verifyChannelToken(
  token: string,
  options: { keys: JWTVerifyGetKey; issuer: string; clients: readonly string[]; now: () => number },
): Promise<ChannelClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.issuer,
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp'],
      currentDate: new Date(options.now()),
    }));
  } catch (error) {
    throw new ChannelError('invalid_token', describe(error, options.issuer), { cause: error });
  }
  if (payload.typ !== 'Bearer')
    throw new ChannelError('invalid_token', `The token's "typ" must be "Bearer", as Keycloak's channel token has.`);
  const azp = typeof payload.azp === 'string' ? payload.azp : undefined;
  if (!azp || !options.clients.includes(azp))
    throw new ChannelError(
      'invalid_token',
      `The request comes from client ${azp ? JSON.stringify(azp.slice(0, 200)) : '(none)'}; this device shows only CIBA requests of ${options.clients.join(', ')}.`,
    );
  const { sub, jti, exp } = payload;
  if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || jti === '' || typeof exp !== 'number')
    throw new ChannelError('invalid_token', 'The token must name the user ("sub") and the request ("jti").');
  return { sub, jti, azp, exp };
}

function describe(error: unknown, issuer: string): string {
  if (error instanceof errors.JWTExpired) return "The channel token has expired: Keycloak's request is over.";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `The token was not issued by ${issuer}.`;
    if (error.claim === 'aud') return `The token's audience must be the realm (${issuer}), as Keycloak's channel sets.`;
    return `The token's "${error.claim}" claim is missing or invalid.`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return `The token's algorithm is not allowed; the realm signs with one of ${ALLOWED_ALGORITHMS.join(', ')}.`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'The token is signed with a key the realm does not publish.';
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is invalid.";
  if (error instanceof errors.JWKSTimeout || (error instanceof Error && /fetch|ECONNREFUSED/i.test(error.message)))
    return "The realm's keys could not be fetched, so the token cannot be checked.";
  return 'Not a token signed by the realm.';
}
