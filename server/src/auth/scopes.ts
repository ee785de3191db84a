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

/**
 * The realm role behind each MCP scope (the realm's `scopeMappings`): Keycloak puts a scope in a token only for users
 * holding its role, so for anyone else re-authorizing cannot add it, whatever the client asks for.
 */
export const SCOPE_ROLES: Readonly<Record<string, string>> = {
  'portfolio:read': 'viewer',
  'trade:read': 'viewer',
  'trade:write': 'trader',
};

export interface Unobtainable {
  scope: string;
  role: string;
}

/**
 * The missing scopes this user can never be granted: their token lists their realm roles (`realm_access.roles`) and
 * lacks the role the scope needs. Without a roles claim nothing is treated as final (a step-up may still work).
 *
 * @example unobtainableScopes(['trade:write'], ['viewer']) // → [{ scope: 'trade:write', role: 'trader' }]
 */
export function unobtainableScopes(missing: readonly string[], roles: readonly string[] | undefined): Unobtainable[] {
  if (!roles) return [];
  return missing.flatMap((scope) => {
    const role = SCOPE_ROLES[scope];
    return role && !roles.includes(role) ? [{ scope, role }] : [];
  });
}

/** The tool error for a refusal no re-authorization can cure: says why, and who can change it. */
export function roleRefusalText(tool: string, who: string, blocked: readonly Unobtainable[], roles: readonly string[]) {
  const needs = blocked.map((b) => `scope ${b.scope} (granted only to users with the realm role "${b.role}")`);
  return (
    `${who} cannot use ${tool}: it needs ${needs.join(' and ')}, and ${who}'s roles are ` +
    `${roles.length ? roles.join(', ') : '(none)'}. Signing in again will not change this; ` +
    'a realm administrator can grant the role.'
  );
}
