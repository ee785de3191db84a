// `make doctor`: every misconfiguration the labs and docs/troubleshooting.md know, found in a realm export (a file,
// a URL, or the running Keycloak's partial export) and in a running stack. Each finding says what is wrong and how to
// fix it; the id is the lab's name where a lab breaks the same thing.
import { PROBE_CLIENT_ID } from './keycloak.ts';
import { MCP_SCOPES, REGISTRATION_POLICY } from './realm-api.ts';

export interface Finding {
  id: string;
  problem: string;
  fix: string;
}

interface Mapper {
  protocolMapper?: string;
  config?: Record<string, unknown>;
}
interface RealmExport {
  accessTokenLifespan?: number;
  revokeRefreshToken?: boolean;
  refreshTokenMaxReuse?: number;
  clients?: Array<{
    clientId?: string;
    publicClient?: boolean;
    attributes?: Record<string, unknown>;
    defaultClientScopes?: string[];
  }>;
  clientScopes?: Array<{ name?: string; protocolMappers?: Mapper[] }>;
  scopeMappings?: Array<{ clientScope?: string; roles?: string[] }>;
  clientPolicies?: {
    policies?: Array<{ name?: string; enabled?: boolean; conditions?: unknown[]; profiles?: string[] }>;
  };
  clientProfiles?: { profiles?: Array<{ name?: string; executors?: Array<{ executor?: string }> }> };
  components?: Record<string, Array<{ providerId?: string; subType?: string; config?: Record<string, string[]> }>>;
}

/** The scopes an anonymous registrant may ask for, as shipped. */
export const DCR_ALLOWED_SCOPES = new Set(['basic', 'profile', 'offline_access', ...MCP_SCOPES]);
const MAX_ACCESS_TOKEN_SECONDS = 900;

/** `${VAR:default}` placeholders (as in keycloak/realm/sandbox-realm.json) read as their defaults. */
export function resolvePlaceholders<T>(value: T): T {
  if (typeof value === 'string')
    return value.replace(/\$\{[A-Z0-9_]+:([^}]*)\}/g, (_m, fallback: string) => fallback) as T;
  if (Array.isArray(value)) return value.map(resolvePlaceholders) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePlaceholders(v)])) as T;
  return value;
}

/** Checks a realm representation for the sandbox's rules; `resource` is the MCP server's URL (its client ID). */
export function checkRealm(input: unknown, resource: string): Finding[] {
  const realm = resolvePlaceholders(input) as RealmExport;
  const findings: Finding[] = [];
  const add = (id: string, problem: string, fix: string) => findings.push({ id, problem, fix });
  const scope = (name: string) => realm.clientScopes?.find((s) => s.name === name);
  const mcp = realm.clients?.find((c) => c.clientId === resource);

  if (!mcp)
    add(
      'mcp-client',
      `No client with client ID ${resource} (the MCP server's client is named after its resource URL).`,
      'Import keycloak/realm/sandbox-realm.json with MCP_RESOURCE_URL set to the MCP server URL, or pass --mcp <url>.',
    );
  else {
    if (mcp.publicClient)
      add(
        'mcp-client',
        `Client ${resource} is public; token exchange needs a confidential client.`,
        'Set Client authentication on for it (publicClient false) and give the MCP server its secret (CLIENT_SECRET).',
      );
    if (mcp.attributes?.['standard.token.exchange.enabled'] !== 'true')
      add(
        'exchange-permission',
        `Standard token exchange is off for client ${resource}: every tool that reaches the stock API fails.`,
        'Client → Advanced → Standard token exchange: on (attribute standard.token.exchange.enabled=true); make lab-reset does it.',
      );
    if (!mcp.defaultClientScopes?.includes('stock-api-audience'))
      add(
        'stock-audience',
        `Client ${resource} lacks the default client scope stock-api-audience: Keycloak answers "Requested audience not available: stock-api".`,
        `Add stock-api-audience to the default client scopes of ${resource}.`,
      );
  }
  const stockAudience = scope('stock-api-audience')?.protocolMappers?.some(
    (m) => m.protocolMapper === 'oidc-audience-mapper' && m.config?.['included.client.audience'] === 'stock-api',
  );
  if (!stockAudience || !realm.clients?.some((c) => c.clientId === 'stock-api'))
    add(
      'stock-audience',
      'The client scope stock-api-audience does not map the client stock-api into aud (or that client is missing).',
      'Give stock-api-audience an audience mapper with included client audience "stock-api", and keep the stock-api client.',
    );

  const noAudience = MCP_SCOPES.filter(
    (name) =>
      !scope(name)?.protocolMappers?.some(
        (m) => m.protocolMapper === 'oidc-audience-mapper' && m.config?.['included.custom.audience'] === resource,
      ),
  );
  if (noAudience.length)
    add(
      'audience-mapper',
      `Client scopes ${noAudience.join(', ')} do not put ${resource} into aud: the MCP server refuses their tokens (401, audience).`,
      `Add an audience mapper (oidc-audience-mapper, included.custom.audience = ${resource}, access token) to each; make lab-reset does it.`,
    );

  const writeRoles = realm.scopeMappings?.find((m) => m.clientScope === 'trade:write')?.roles ?? [];
  if (!writeRoles.includes('trader'))
    add(
      'trader-role',
      'The client scope trade:write has no trader role scope mapping: every user, bob included, can get trade:write and place orders.',
      'Client scopes → trade:write → Scope → assign realm role trader.',
    );

  const downscope = new Set(
    (realm.clientProfiles?.profiles ?? [])
      .filter((p) => p.executors?.some((e) => e.executor === 'downscope-assertion-grant-enforcer'))
      .map((p) => p.name),
  );
  const guarded = (realm.clientPolicies?.policies ?? []).some(
    (p) =>
      p.enabled !== false &&
      JSON.stringify(p.conditions ?? []).includes('urn:ietf:params:oauth:grant-type:token-exchange') &&
      p.profiles?.some((name) => downscope.has(name)),
  );
  if (!guarded)
    add(
      'upscope-guard',
      'No enabled client policy applies downscope-assertion-grant-enforcer to token exchange: an exchange can add scopes the user token lacks.',
      'Enable the client policy token-exchange-no-upscoping (Realm settings → Client policies); make lab-reset does it.',
    );

  const anonymous = (realm.components?.[REGISTRATION_POLICY] ?? []).filter((c) => c.subType === 'anonymous');
  const policy = (providerId: string) => anonymous.find((c) => c.providerId === providerId);
  const allowed = policy('allowed-client-templates')?.config?.['allowed-client-scopes'];
  const extra = (allowed ?? []).filter((s) => !DCR_ALLOWED_SCOPES.has(s));
  if (!allowed || extra.length)
    add(
      'dcr-scopes',
      allowed
        ? `Anonymous registration may ask for ${extra.join(', ')}, beyond the MCP scopes.`
        : 'No anonymous Allowed Client Scopes policy: a registrant may ask for any client scope.',
      `Keep the anonymous Allowed Client Scopes policy to ${[...DCR_ALLOWED_SCOPES].join(', ')}.`,
    );
  if (!policy('trusted-hosts'))
    add(
      'dcr-trusted-hosts',
      'No anonymous Trusted Hosts policy: anyone who reaches Keycloak can register clients.',
      'Add the Trusted Hosts policy for anonymous registration (keycloak/realm/sandbox-realm.json has the shipped one).',
    );
  if (!policy('consent-required'))
    add(
      'dcr-consent',
      'No anonymous Consent Required policy: registered clients get tokens without the user seeing a consent screen.',
      'Add the Consent Required policy for anonymous registration.',
    );

  if (realm.clients?.some((c) => c.clientId === PROBE_CLIENT_ID))
    add(
      'probe-client',
      `The workshop's probe client ${PROBE_CLIENT_ID} is still in the realm: a public client allowed the password grant.`,
      'make lab-reset deletes it (with every lab setting); or delete the client in the admin console.',
    );
  if ((realm.accessTokenLifespan ?? 300) > MAX_ACCESS_TOKEN_SECONDS)
    add(
      'token-lifespan',
      `Access tokens live ${realm.accessTokenLifespan} s; a leaked one stays useful that long.`,
      `Set Realm settings → Tokens → Access Token Lifespan to ${MAX_ACCESS_TOKEN_SECONDS / 60} minutes or less (the sandbox ships 5).`,
    );
  if (realm.revokeRefreshToken !== true || (realm.refreshTokenMaxReuse ?? 0) !== 0)
    add(
      'refresh-reuse',
      'Refresh tokens are not rotated (revokeRefreshToken off, or reuse allowed): a stolen refresh token keeps working.',
      'Realm settings → Tokens → Revoke Refresh Token: on, Max reuse 0 (MCP 2026-07-28 rotation for public clients).',
    );
  return findings;
}
