// The scopes this resource understands (advertised in protected-resource metadata).
export const BASE_SCOPE = 'mcp:tools';
export const SCOPES_SUPPORTED = ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write'] as const;
/**
 * What a 401 tells a client to ask for: every scope. MCP clients register (DCR) with the challenge's scopes, and
 * Keycloak makes exactly those the new client's optional scopes; a scope left out here could never be stepped up
 * to later. Roles and consent still decide what a user gets (bob never gets trade:write).
 */
export const DEFAULT_CHALLENGE_SCOPES = SCOPES_SUPPORTED;

export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.includes(scope));
}

/** For a 403: the caller's current MCP scopes plus what the call needs, so one re-authorization suffices. */
export function stepUpScopes(granted: readonly string[], required: readonly string[]): string[] {
  const known = new Set<string>(SCOPES_SUPPORTED);
  return [...new Set([BASE_SCOPE, ...granted.filter((s) => known.has(s)), ...required])];
}
