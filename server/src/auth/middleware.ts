// Hono adapter: bearer token from the Authorization header only → verifyAccessToken → Principal on the context.
import type { MiddlewareHandler } from 'hono';
import { AuthError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { authErrorResponse, quote, type ChallengeOptions } from './challenge.ts';
import { DPOP_ALGORITHMS, DpopError, dpopNonce, verifyDpopProof, type DpopOptions } from './dpop.ts';
import { createTokenVerifier } from './verify-cache.ts';
import type { Principal, VerifyOptions } from './verify.ts';

export interface AuthVariables {
  principal: Principal;
  token: string;
  requestId: string;
}

export interface BearerAuthOptions {
  verify: VerifyOptions;
  /** Verifies a token; default: jose verification with verify, cached per token until it expires. */
  verifier?: (token: string) => Promise<Principal>;
  challenge: ChallengeOptions;
  logger: Logger;
  /**
   * DPoP (RFC 9449): how proofs are checked, the public origin their `htu` names (the resource URL's, whatever
   * Host a balancer passed on), and whether bearer (unbound) tokens are refused.
   */
  dpop?: { options: DpopOptions; publicOrigin: string; required: boolean };
}

/** The 401 for a DPoP failure: `WWW-Authenticate: DPoP …` (RFC 9449 §7.1), and a fresh nonce when one is wanted. */
function dpopErrorResponse(error: DpopError, options: BearerAuthOptions): Response {
  const headers = new Headers({
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'www-authenticate': `DPoP algs=${quote(DPOP_ALGORITHMS.join(' '))}, error=${quote(error.dpopCode)}, error_description=${quote(error.message)}`,
  });
  const dpop = options.dpop?.options;
  if (error.dpopCode === 'use_dpop_nonce' && dpop?.nonceKey)
    headers.set('dpop-nonce', dpopNonce(dpop.nonceKey, (dpop.now ?? Date.now)(), dpop.nonceWindowSeconds));
  return new Response(JSON.stringify(error.toClientObject()), { status: 401, headers });
}

/** Counts Authorization headers as sent (Node keeps only the first of duplicates, so read the raw list). */
function authorizationHeaderCount(env: unknown): number | undefined {
  const raw = (env as { incoming?: { rawHeaders?: string[] } } | undefined)?.incoming?.rawHeaders;
  if (!raw) return undefined;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'authorization') count += 1;
  return count;
}

export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  if (!options.verify.issuer || !options.verify.resource) throw new Error('bearerAuth needs an issuer and a resource');
  const verify = options.verifier ?? createTokenVerifier(options.verify);
  /** RFC 9449 §7: a bound token only with the DPoP scheme and a valid proof; the DPoP scheme only for a bound token. */
  async function checkBinding(
    c: Parameters<MiddlewareHandler>[0],
    scheme: 'Bearer' | 'DPoP',
    token: string,
    jkt: string | undefined,
  ): Promise<void> {
    const dpop = options.dpop;
    if (scheme === 'Bearer') {
      if (jkt)
        throw new AuthError(
          'invalid_token',
          'This access token is DPoP-bound (cnf.jkt): send it as "Authorization: DPoP <token>" with a DPoP proof header (RFC 9449); a bound token is useless without its key.',
        );
      if (dpop?.required)
        throw new AuthError(
          'invalid_token',
          'This server requires DPoP-bound access tokens (dpop_bound_access_tokens_required): get the token with a DPoP proof and send proofs with every request (RFC 9449).',
        );
      return;
    }
    if (!jkt)
      throw new AuthError(
        'invalid_token',
        'The DPoP scheme was used with a bearer token (no cnf.jkt): send it as "Authorization: Bearer <token>", or get a DPoP-bound token.',
      );
    if (!dpop) throw new DpopError('invalid_dpop_proof', 'This server does not accept DPoP-bound tokens.');
    const proofs = c.req.raw.headers.get('dpop');
    if (!proofs || proofs.includes(','))
      throw new DpopError('invalid_dpop_proof', 'Send exactly one DPoP proof header with a DPoP-bound token.');
    await verifyDpopProof(
      { proof: proofs.trim(), method: c.req.method, url: `${dpop.publicOrigin}${c.req.path}`, accessToken: token, jkt },
      dpop.options,
    );
  }

  return async function bearerAuthMiddleware(c, next) {
    const fail = (error: AuthError | undefined) => {
      options.logger.log(error?.status === 503 ? 'warn' : 'info', 'auth rejected', {
        requestId: c.get('requestId'),
        path: c.req.path,
        ...(error ? error.toLogObject() : { error: 'no_token' }),
      });
      return authErrorResponse(error, options.challenge);
    };
    if (c.req.url.includes('access_token=') && new URL(c.req.url).searchParams.has('access_token')) {
      return fail(
        new AuthError(
          'invalid_request',
          'Access tokens are accepted only in the Authorization header, never in the URL.',
        ),
      );
    }
    if ((authorizationHeaderCount(c.env) ?? 1) > 1) {
      return fail(new AuthError('invalid_request', 'Send exactly one Authorization header.'));
    }
    const header = c.req.header('authorization');
    if (!header) return fail(undefined);
    const match = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match?.[2]) {
      if (!/^(Bearer|DPoP)\s/i.test(header)) return fail(undefined); // another scheme: treat as no token
      return fail(
        new AuthError(
          'invalid_request',
          'The Authorization header must be "Bearer <token>" with one token (or "DPoP <token>" for a DPoP-bound token).',
        ),
      );
    }
    const scheme = match[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2];
    try {
      const principal = await verify(token);
      await checkBinding(c, scheme, token, principal.jkt);
      c.set('principal', principal);
      c.set('token', token);
    } catch (error) {
      if (error instanceof DpopError) {
        options.logger.log('info', 'auth rejected', {
          requestId: c.get('requestId'),
          path: c.req.path,
          ...error.toLogObject(),
          dpop: error.dpopCode,
        });
        return dpopErrorResponse(error, options);
      }
      if (error instanceof AuthError) return fail(error);
      throw error;
    }
    await next();
  };
}
