// Hono adapter: bearer token from the Authorization header only → verifyAccessToken → Principal on the context.
import type { MiddlewareHandler } from 'hono';
import { AuthError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { authErrorResponse, type ChallengeOptions } from './challenge.ts';
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
    const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match?.[1]) {
      if (!/^Bearer\s/i.test(header)) return fail(undefined); // another scheme: treat as no bearer token
      return fail(
        new AuthError('invalid_request', 'The Authorization header must be "Bearer <token>" with one token.'),
      );
    }
    try {
      const principal = await verify(match[1]);
      c.set('principal', principal);
      c.set('token', match[1]);
    } catch (error) {
      if (error instanceof AuthError) return fail(error);
      throw error;
    }
    await next();
  };
}
