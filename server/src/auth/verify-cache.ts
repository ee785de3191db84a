// Remembers tokens that passed full verification until they expire, so a client's repeated calls cost a map lookup
// instead of an RS256 verification. Failures are never cached; expiry is re-checked on every use.
import { AuthError } from '../errors.ts';
import { verifyAccessToken, type Principal, type VerifyOptions } from './verify.ts';

export interface TokenVerifier {
  (token: string): Promise<Principal>;
  readonly size: number;
}

export interface VerifyCacheOptions {
  maxEntries?: number;
  /** Longest time a verification is trusted without re-checking the signature (key rotation bound). */
  maxAgeSeconds?: number;
  now?: () => number;
}

/**
 * A verifier that remembers successful verifications until the token expires (at most maxAgeSeconds).
 *
 *   const verify = createTokenVerifier({ keys, issuer, resource, maxTokenBytes: 8192 });
 *   const principal = await verify(bearer); // throws AuthError with a client-facing message
 */
export function createTokenVerifier(options: VerifyOptions, cacheOptions: VerifyCacheOptions = {}): TokenVerifier {
  const maxEntries = cacheOptions.maxEntries ?? 10_000;
  const maxAgeMs = (cacheOptions.maxAgeSeconds ?? 300) * 1000;
  const now = cacheOptions.now ?? Date.now;
  const leewayMs = (options.clockToleranceSeconds ?? 5) * 1000;
  const verified = new Map<string, { principal: Principal; until: number }>();

  const verifier = async function verifyWithCache(token: string): Promise<Principal> {
    const hit = verified.get(token);
    const at = now();
    if (hit) {
      if (at < hit.until) return hit.principal;
      verified.delete(token);
      if (at >= hit.principal.exp * 1000 + leewayMs)
        throw new AuthError(
          'invalid_token',
          'The access token has expired; obtain a new one (refresh or re-authorize).',
        );
    }
    const principal = await verifyAccessToken(token, options);
    if (verified.size >= maxEntries) verified.delete(verified.keys().next().value as string);
    verified.set(token, { principal, until: Math.min(principal.exp * 1000 + leewayMs, at + maxAgeMs) });
    return principal;
  } as TokenVerifier;
  Object.defineProperty(verifier, 'size', { get: () => verified.size });
  return verifier;
}
