// DPoP at the resource server (RFC 9449 §7): a DPoP-bound access token (`cnf.jkt`) is accepted only with
// `Authorization: DPoP <token>` and a fresh proof signed by the bound key. Pure apart from the replay store; jose does
// the JWS and the JWK thumbprint. docs/dpop.md.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { AuthError } from '../errors.ts';

/** Asymmetric algorithms only (RFC 9449 §4.2: never `none`, never a MAC); what PRM advertises. */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] as const;

/** Remembers proof `jti`s for as long as a proof is accepted; shared by every replica when Redis is configured. */
export interface DpopReplayStore {
  /** True the first time `key` is seen within `ttlSeconds`, false on a replay. Throws when it cannot tell. */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
}

export interface DpopOptions {
  replay: DpopReplayStore;
  /** How far a proof's `iat` may be from now, either way (seconds). */
  maxAgeSeconds: number;
  /**
   * Server nonces (RFC 9449 §8), stateless: HMAC of the time window under this key, so every replica issues and
   * accepts the same ones. Undefined: no nonces.
   */
  nonceKey?: Buffer;
  nonceWindowSeconds?: number;
  now?: () => number;
}

/** A refused proof: 401 with `WWW-Authenticate: DPoP error=…` (and a fresh `DPoP-Nonce` for use_dpop_nonce). */
export class DpopError extends AuthError {
  readonly dpopCode: 'invalid_dpop_proof' | 'use_dpop_nonce';
  constructor(dpopCode: 'invalid_dpop_proof' | 'use_dpop_nonce', message: string) {
    super('invalid_token', message);
    this.dpopCode = dpopCode;
  }
  override toClientObject() {
    return { error: this.dpopCode as never, error_description: this.message };
  }
}

const b64urlSha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The nonce of the window `now` falls in (or `offset` windows before it). */
export function dpopNonce(key: Buffer, nowMs: number, windowSeconds = 60, offset = 0): string {
  const window = Math.floor(nowMs / 1000 / windowSeconds) - offset;
  return createHmac('sha256', key).update(`dpop-nonce:${window}`).digest('base64url');
}

function nonceValid(nonce: unknown, key: Buffer, nowMs: number, windowSeconds: number): boolean {
  if (typeof nonce !== 'string') return false;
  return [0, 1].some((offset) => {
    const expected = Buffer.from(dpopNonce(key, nowMs, windowSeconds, offset));
    const given = Buffer.from(nonce);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/**
 * Verifies one request's DPoP proof for `accessToken`, bound to the key whose thumbprint is `jkt`:
 * `typ` dpop+jwt, an allowed algorithm, the public key embedded in the header, `htm` = the method, `htu` = the URL
 * without query and fragment, `iat` within maxAgeSeconds, `ath` = the token's hash, the key's thumbprint = `jkt`,
 * the server nonce when nonces are on, and a `jti` never seen before.
 *
 *   await verifyDpopProof({ proof, method: 'POST', url: 'https://mcp.example/mcp', accessToken, jkt }, options);
 */
export async function verifyDpopProof(
  input: { proof: string; method: string; url: string; accessToken: string; jkt: string },
  options: DpopOptions,
): Promise<void> {
  const fail = (message: string) => new DpopError('invalid_dpop_proof', message);
  let header: { typ?: unknown; alg?: unknown; jwk?: unknown };
  try {
    header = decodeProtectedHeader(input.proof);
  } catch {
    throw fail('The DPoP header is not a JWS: send one proof JWT (RFC 9449 §4.2).');
  }
  if (header.typ !== 'dpop+jwt') throw fail('The DPoP proof must have typ "dpop+jwt".');
  if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(header.alg))
    throw fail(`The DPoP proof's alg must be one of ${DPOP_ALGORITHMS.join(', ')}.`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(input.proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...DPOP_ALGORITHMS],
    }));
  } catch (error) {
    throw fail(`The DPoP proof's signature does not verify with its own jwk (${(error as Error).message}).`);
  }
  if ((await calculateJwkThumbprint(header.jwk as JWK, 'sha256')) !== input.jkt)
    throw fail('The DPoP proof is signed with another key than the one the access token is bound to (cnf.jkt).');
  if (payload.htm !== input.method) throw fail(`The DPoP proof's htm must be ${input.method}.`);
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  const expected = new URL(input.url);
  if (!htu || `${htu.origin}${htu.pathname}` !== `${expected.origin}${expected.pathname}`)
    throw fail(`The DPoP proof's htu must be ${expected.origin}${expected.pathname}.`);
  if (payload.ath !== b64urlSha256(input.accessToken))
    throw fail("The DPoP proof's ath is not the hash of this access token.");
  const nowMs = (options.now ?? Date.now)();
  if (typeof payload.iat !== 'number' || Math.abs(nowMs / 1000 - payload.iat) > options.maxAgeSeconds)
    throw fail(
      `The DPoP proof's iat must be within ${options.maxAgeSeconds} s of now: make a fresh proof per request.`,
    );
  if (options.nonceKey && !nonceValid(payload.nonce, options.nonceKey, nowMs, options.nonceWindowSeconds ?? 60))
    throw new DpopError('use_dpop_nonce', 'Resource server requires nonce in DPoP proof: use the DPoP-Nonce header.');
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 256)
    throw fail('The DPoP proof needs a unique jti.');
  // Replays are remembered per key, so one client cannot burn another's jti.
  let first: boolean;
  try {
    first = await options.replay.firstUse(`${input.jkt}:${payload.jti}`, options.maxAgeSeconds * 2 + 5);
  } catch (error) {
    throw new AuthError(
      'temporarily_unavailable',
      'The DPoP replay check is unavailable (its store does not answer); retry shortly.',
      { cause: error, logDetail: (error as Error).message },
    );
  }
  if (!first) throw fail('This DPoP proof was used before (its jti is spent): make a fresh proof per request.');
}

/** A replay store in this process (lru-cache, entries expire): enough for one replica. */
export function memoryReplayStore(maxEntries = 50_000): DpopReplayStore {
  const seen = new LRUCache<string, true>({ max: maxEntries });
  return {
    async firstUse(key, ttlSeconds) {
      if (seen.has(key)) return false;
      seen.set(key, true, { ttl: ttlSeconds * 1000 });
      return true;
    },
  };
}

/** The replay store every replica shares: `SET key 1 NX EX ttl` (a replay is refused on whichever replica it lands). */
export function redisReplayStore(
  redis: { set(key: string, value: string, ex: 'EX', ttl: number, nx: 'NX'): Promise<string | null> },
  prefix = 'mcp:',
): DpopReplayStore {
  return {
    async firstUse(key, ttlSeconds) {
      return (await redis.set(`${prefix}dpop:jti:${b64urlSha256(key)}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
    },
  };
}
