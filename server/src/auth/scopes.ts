export const BASE_SCOPE = 'mcp:tools';
/** Every scope this resource understands (the realm's MCP client scopes). */
export const MCP_SCOPES = ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write'] as const;
/**
 * What a 401 tells a client to ask for: what reading needs, no more (least privilege). `trade:write` is asked for by
 * a 403 step-up when a trade is attempted, and only of users whose roles can earn it (app.ts), so nobody consents to
 * trading at first login and bob is never offered it. MCP clients register (DCR) with these scopes; the realm's
 * "mcp-optional-scopes" registration policy (keycloak/extensions) still gives every registered client all of
 * MCP_SCOPES as optional scopes, or the later step-up could never be granted.
 */
export const DEFAULT_CHALLENGE_SCOPES = ['mcp:tools', 'portfolio:read', 'trade:read'] as const;
/**
 * Protected-resource metadata's `scopes_supported`: the same minimal set. The MCP spec (2025-11-25 and 2026-07-28)
 * says it is "intended to represent the minimal set of scopes necessary for basic functionality", and clients that
 * ignore the challenge's `scope` (the Inspector CLI's first login) ask for exactly this list.
 */
export const SCOPES_SUPPORTED = DEFAULT_CHALLENGE_SCOPES;

export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.includes(scope));
}

/** For a 403: the caller's current MCP scopes plus what the call needs, so one re-authorization suffices. */
export function stepUpScopes(granted: readonly string[], required: readonly string[]): string[] {
  const known = new Set<string>(MCP_SCOPES);
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

/**
 * The refusal of a user's tool to a machine principal (a machine client's client_credentials token), or undefined
 * when the tool takes machines or the caller is a user. No re-authorization cures it, so it is a tool error, never
 * a 403 challenge.
 *
 * @example machineRefusalText({ name: 'get_portfolio', machine: false }, { machine: true, clientId: 'sandbox-bot' })
 */
export function machineRefusalText(
  tool: { name: string; machine: boolean },
  principal: { machine: boolean; clientId: string | undefined },
): string | undefined {
  if (!principal.machine || tool.machine) return undefined;
  return (
    `${tool.name} acts for a signed-in user, and this token is the machine client ${principal.clientId ?? '?'}'s own ` +
    '(client_credentials: no user). Machine clients may call get_stock_info, search_stocks and the informational ' +
    'tools; sign in as a user (authorization code flow) for portfolios and orders.'
  );
}
