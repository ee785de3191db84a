// What check-client saw of a client under test: the HTTP exchanges its traffic made through the recording proxy,
// and the authorization requests its user was sent to. Only what the verdicts need is kept; never a token, code or
// secret (their presence, a SHA-256 prefix, or a token's non-secret claims instead).
import { createHash } from 'node:crypto';

/** Parameters whose values are secrets: recorded as "<present>". */
const SECRET_PARAMS = new Set([
  'code',
  'code_verifier',
  'refresh_token',
  'client_secret',
  'client_assertion',
  'subject_token',
  'assertion',
]);

export interface BearerSummary {
  /** SHA-256 prefix of the token (to tell tokens apart). */
  hash: string;
  scope?: string;
  aud?: string[];
  azp?: string;
}

export interface Exchange {
  /** Milliseconds since the run started. */
  at: number;
  method: string;
  /** Absolute URL the client asked for. */
  url: string;
  status: number;
  /** The response's WWW-Authenticate header, if any. */
  challenge?: string;
  bearer?: BearerSummary;
  /** Form or JSON request body with secrets replaced (token and registration requests). */
  body?: Record<string, unknown>;
  /** Selected fields of a JSON response body (registration: client_id; token: scope, refresh_token presence). */
  response?: Record<string, unknown>;
}

export interface AuthorizationRequest {
  at: number;
  /** The authorization URL's query parameters, as the browser sent them to the authorization endpoint. */
  params: Record<string, string>;
  /** What the login ended with: the redirect to the client, or the error Keycloak showed. */
  outcome: 'redirected' | 'error';
  error?: string;
}

export interface Observations {
  mcpUrl: string;
  issuer: string;
  /** The scope of the server's first 401 challenge (probed by check-client itself before the client starts). */
  challengeScope: string[];
  exchanges: Exchange[];
  authorizations: AuthorizationRequest[];
  /** How the run was driven: `stdio` (check-client spoke MCP to the command) or `self` (the command drove itself). */
  mode: 'stdio' | 'self';
  /** What check-client's own MCP session over stdio got (stdio mode): tool name → ok, or the error text. */
  stdioCalls?: Record<string, string>;
  /** How the client process ended, e.g. "exit 0", "killed after 90 s". */
  exit: string;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

/** Scopes in an RFC 6750 challenge's `scope` parameter, and its `error`. */
export function parseChallenge(header: string | undefined): {
  error?: string;
  scope: string[];
  resourceMetadata?: string;
} {
  if (!header) return { scope: [] };
  const param = (name: string) => new RegExp(`${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header)?.[1];
  const scope = param('scope')?.split(/\s+/).filter(Boolean) ?? [];
  const error = param('error') ?? /error=([\w-]+)/i.exec(header)?.[1];
  return {
    scope,
    ...(error ? { error } : {}),
    ...(param('resource_metadata') ? { resourceMetadata: param('resource_metadata') } : {}),
  };
}

/** Non-secret claims of a JWT access token (none if it is not a JWT). */
export function summarizeBearer(token: string): BearerSummary {
  const summary: BearerSummary = { hash: tokenHash(token) };
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    if (typeof claims.scope === 'string') summary.scope = claims.scope;
    if (claims.aud !== undefined) summary.aud = [claims.aud].flat().map(String);
    if (typeof claims.azp === 'string') summary.azp = claims.azp;
  } catch {
    /* opaque token: the hash is all we keep */
  }
  return summary;
}

/** A request body as key → value, secrets replaced; undefined for anything but a form or JSON object. */
export function redactBody(contentType: string | undefined, raw: string): Record<string, unknown> | undefined {
  let fields: Record<string, unknown>;
  if (contentType?.includes('application/x-www-form-urlencoded')) fields = Object.fromEntries(new URLSearchParams(raw));
  else if (contentType?.includes('json')) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
      fields = parsed as Record<string, unknown>;
    } catch {
      return undefined;
    }
  } else return undefined;
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [key, SECRET_PARAMS.has(key) ? '<present>' : value]),
  );
}

/** The fields of a token or registration response worth keeping. */
export function redactResponse(raw: string): Record<string, unknown> | undefined {
  try {
    const body = JSON.parse(raw) as Record<string, unknown>;
    const kept: Record<string, unknown> = {};
    for (const key of ['client_id', 'application_type', 'scope', 'error', 'error_description', 'token_type'])
      if (body[key] !== undefined) kept[key] = body[key];
    if (body.refresh_token !== undefined) kept.refresh_token = '<present>';
    return kept;
  } catch {
    return undefined;
  }
}
