// Reading a server's answers the way a client does: the RFC 6750 challenge (parsed by the MCP SDK client's own
// extractWWWAuthenticateParams, so the check sees what real clients see) and the verdict on a token refusal.
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/client';

export interface Challenge {
  /** The raw header, shortened for reports (a challenge never holds a token). */
  header: string;
  /** The auth scheme, lowercased ("bearer"). */
  scheme: string;
  resourceMetadata?: string;
  scope?: string;
  error?: string;
  errorDescription?: string;
}

/** The response's WWW-Authenticate challenge, or undefined when it has none. */
export function readChallenge(response: Pick<Response, 'headers'>): Challenge | undefined {
  const header = response.headers.get('www-authenticate');
  if (!header) return undefined;
  const params = extractWWWAuthenticateParams(response as Response);
  // The SDK also reads `resource_metadata` when it is not a valid URL: keep the raw value for the report.
  const rawMetadata = /resource_metadata="([^"]*)"/.exec(header)?.[1];
  return {
    header: header.length > 300 ? `${header.slice(0, 300)}…` : header,
    scheme: (header.trim().split(/\s+/)[0] ?? '').toLowerCase(),
    resourceMetadata: params.resourceMetadataUrl?.href ?? rawMetadata,
    scope: params.scope,
    error: params.error,
    errorDescription: params.errorDescription,
  };
}

/** "HTTP 401, WWW-Authenticate: Bearer …" — what a report's `observed` says about a response. */
export function describeResponse(status: number, challenge: Challenge | undefined, body = ''): string {
  const head = `HTTP ${status}`;
  const auth = challenge ? `WWW-Authenticate: ${challenge.header}` : 'no WWW-Authenticate header';
  const excerpt = body.trim() ? `; body: ${body.trim().replace(/\s+/g, ' ').slice(0, 160)}` : '';
  return `${head}, ${auth}${excerpt}`;
}

export type Verdict = { status: 'pass' | 'fail'; observed: string };

/**
 * A token the server must refuse: 401, and if a challenge says why, `invalid_token` (RFC 6750 §3.1). A 401 without
 * any challenge passes here: the challenge checks report that on their own, so one flaw fails one check.
 */
export function refusalVerdict(status: number, challenge: Challenge | undefined, body = ''): Verdict {
  const observed = describeResponse(status, challenge, body);
  if (status !== 401) {
    const what = status >= 200 && status < 300 ? 'the server accepted the token' : `expected 401, got ${status}`;
    return { status: 'fail', observed: `${what}: ${observed}` };
  }
  if (challenge?.error && challenge.error !== 'invalid_token')
    return { status: 'fail', observed: `401 with error="${challenge.error}" instead of invalid_token: ${observed}` };
  return { status: 'pass', observed };
}

/** Space-separated scopes, deduplicated, in order. */
export function scopeList(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(/\s+/).filter(Boolean))];
}
