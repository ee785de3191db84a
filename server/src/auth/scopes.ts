// The scopes this resource understands (advertised in protected-resource metadata).
export const BASE_SCOPE = 'mcp:tools';
export const SCOPES_SUPPORTED = ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write'] as const;
/** What a client should ask for first: everything but trading, which is a step-up. */
export const DEFAULT_CHALLENGE_SCOPES = ['mcp:tools', 'portfolio:read', 'trade:read'] as const;

export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.includes(scope));
}

/** For a 403: the caller's current MCP scopes plus what the call needs, so one re-authorization suffices. */
export function stepUpScopes(granted: readonly string[], required: readonly string[]): string[] {
  const known = new Set<string>(SCOPES_SUPPORTED);
  return [...new Set([BASE_SCOPE, ...granted.filter((s) => known.has(s)), ...required])];
}
