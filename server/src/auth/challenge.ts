// RFC 6750 / RFC 9728 challenges: every 401/403 tells the client where the metadata is and which scopes to ask for.
import type { AuthError } from '../errors.ts';

/**
 * An RFC 6750 §3 attribute value, quoted. Its values may hold only %x20-21 / %x23-5B / %x5D-7E, so there is nothing
 * to escape: `"` becomes `'`, `\` becomes `/`, anything else outside printable ASCII (controls, non-ASCII text from a
 * claim, which would make `Headers` throw) a space. The mock stock API applies the same rule (a test compares them).
 */
export function quote(value: string): string {
  return `"${value
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, ' ')}"`;
}

export interface ChallengeOptions {
  resourceMetadataUrl: string;
  /** Scopes a client should request when it has no token yet. */
  defaultScopes: readonly string[];
}

export function challengeHeader(error: AuthError | undefined, options: ChallengeOptions): string {
  const scopes = error?.requiredScopes.length ? error.requiredScopes : options.defaultScopes;
  const params = [`resource_metadata=${quote(options.resourceMetadataUrl)}`, `scope=${quote(scopes.join(' '))}`];
  if (error && error.code !== 'temporarily_unavailable') {
    params.push(`error=${quote(error.code)}`, `error_description=${quote(error.message)}`);
  }
  return `Bearer ${params.join(', ')}`;
}

/** A missing token is a bare 401 (no error code, RFC 6750 §3.1); anything else carries the error. */
export function authErrorResponse(error: AuthError | undefined, options: ChallengeOptions): Response {
  const status = error?.status ?? 401;
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  if (status === 400 || status === 401 || status === 403)
    headers.set('www-authenticate', challengeHeader(error, options));
  if (status === 503) headers.set('retry-after', '5');
  const body = error
    ? error.toClientObject()
    : {
        error: 'unauthorized',
        error_description:
          'This MCP server requires an OAuth access token: follow resource_metadata in WWW-Authenticate.',
      };
  return new Response(JSON.stringify(body), { status, headers });
}
