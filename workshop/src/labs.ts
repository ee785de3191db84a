// Break-and-fix labs: each changes one realm setting through Keycloak's admin API, has a probe that shows the
// symptom a user would see, and names the check that catches it (and the `make doctor` finding with the same id).
// `fix` puts back what keycloak/realm/sandbox-realm.json ships; every fix is safe to run when nothing is broken.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@sandbox/stack';
import { PROBE_CLIENT_ID, type Keycloak } from './keycloak.ts';
import {
  bobScopeProbe,
  lifespanProbe,
  refreshReuseProbe,
  registrationProbe,
  toolProbe,
  upscopeProbe,
  type LabContext,
  type Observation,
} from './probes.ts';
import {
  anonymousPolicy,
  client,
  mappers,
  MCP_SCOPES,
  scopeId,
  setClientAttribute,
  setClientPolicyEnabled,
} from './realm-api.ts';

export interface Lab {
  name: string;
  title: string;
  /** What the facilitator says: what the setting is for. */
  story: string;
  /** What the attendee sees while it is broken. */
  symptom: string;
  /** What catches it, in the sandbox and in any careful deployment. */
  caughtBy: string;
  break(ctx: LabContext): Promise<void>;
  fix(ctx: LabContext): Promise<void>;
  probe(ctx: LabContext): Promise<Observation>;
}

const shipped = JSON.parse(readFileSync(join(repoRoot, 'keycloak', 'realm', 'sandbox-realm.json'), 'utf8')) as {
  accessTokenLifespan: number;
  revokeRefreshToken: boolean;
  refreshTokenMaxReuse: number;
};
const ALL = 'mcp:tools portfolio:read trade:read trade:write';

async function audienceMappers(ctx: LabContext, scope: string) {
  return (await mappers(ctx.kc, scope)).filter(
    (m) => m.protocolMapper === 'oidc-audience-mapper' && m.config['included.custom.audience'] === ctx.mcpUrl,
  );
}

async function traderRole(kc: Keycloak): Promise<unknown> {
  return kc.admin('/roles/trader');
}

export const LABS: readonly Lab[] = [
  {
    name: 'audience-mapper',
    title: 'Remove the audience mappers that put the MCP server into aud',
    story:
      "Keycloak adds no resource audience by default: the mcp:tools and tool scopes carry an audience mapper that puts the MCP server's URL into aud. Without it a token is not for this server.",
    symptom: 'Every MCP request with a new token gets 401 invalid_token, naming the audience.',
    caughtBy:
      "The MCP server's audience check (server/src/auth/verify.ts; MCP authorization: servers MUST validate that tokens were issued for them, RFC 8707).",
    async break(ctx) {
      for (const scope of MCP_SCOPES)
        for (const mapper of await audienceMappers(ctx, scope))
          await ctx.kc.admin(`/client-scopes/${await scopeId(ctx.kc, scope)}/protocol-mappers/models/${mapper.id}`, {
            method: 'DELETE',
          });
    },
    async fix(ctx) {
      for (const scope of MCP_SCOPES)
        if ((await audienceMappers(ctx, scope)).length === 0)
          await ctx.kc.admin(`/client-scopes/${await scopeId(ctx.kc, scope)}/protocol-mappers/models`, {
            method: 'POST',
            body: {
              name: 'audience: MCP resource',
              protocol: 'openid-connect',
              protocolMapper: 'oidc-audience-mapper',
              config: {
                'included.custom.audience': ctx.mcpUrl,
                'access.token.claim': 'true',
                'id.token.claim': 'false',
                'introspection.token.claim': 'true',
              },
            },
          });
    },
    probe: (ctx) => toolProbe(ctx, 'alice', ALL),
  },
  {
    name: 'exchange-permission',
    title: "Turn off standard token exchange for the MCP server's client",
    story:
      'The MCP server reaches the stock API only with a token it exchanged (RFC 8693). Keycloak lets a client exchange only when standard.token.exchange.enabled is on for it.',
    symptom: 'Tools that reach the stock API fail with a tool error: Keycloak rejected the exchange.',
    caughtBy:
      "Keycloak's own permission check; the MCP server translates the refusal into the realm setting to check (server/src/exchange/exchanger.ts).",
    break: (ctx) => setClientAttribute(ctx.kc, ctx.mcpUrl, 'standard.token.exchange.enabled', 'false'),
    fix: (ctx) => setClientAttribute(ctx.kc, ctx.mcpUrl, 'standard.token.exchange.enabled', 'true'),
    probe: (ctx) => toolProbe(ctx, 'alice', ALL),
  },
  {
    name: 'stock-audience',
    title: "Take stock-api-audience off the MCP server's default client scopes",
    story:
      "Token exchange can only narrow the audience to one the requester's scopes provide: the stock-api-audience scope is what makes stock-api available to the MCP server.",
    symptom: 'Tools that reach the stock API fail: "audience stock-api is not available".',
    caughtBy: "Keycloak's audience rule for token exchange; the tool error names the client scope to restore.",
    async break(ctx) {
      const rep = await client(ctx.kc, ctx.mcpUrl);
      const id = await scopeId(ctx.kc, 'stock-api-audience');
      const current = await ctx.kc.admin<Array<{ id: string }>>(`/clients/${rep.id}/default-client-scopes`);
      if (current.some((s) => s.id === id))
        await ctx.kc.admin(`/clients/${rep.id}/default-client-scopes/${id}`, { method: 'DELETE' });
    },
    async fix(ctx) {
      const rep = await client(ctx.kc, ctx.mcpUrl);
      await ctx.kc.admin(`/clients/${rep.id}/default-client-scopes/${await scopeId(ctx.kc, 'stock-api-audience')}`, {
        method: 'PUT',
      });
    },
    probe: (ctx) => toolProbe(ctx, 'alice', ALL),
  },
  {
    name: 'upscope-guard',
    title: 'Disable the client policy that forbids up-scoping on token exchange',
    story:
      "In Keycloak's token exchange, scope adds the requester's optional scopes: without a guard, a token for reading can be exchanged for one that trades.",
    symptom:
      "Nothing changes in the tools (the MCP server asks only for the tool's scope, after its own scope gate), but an exchange by hand turns a trade:read token into trade:write.",
    caughtBy:
      'The client policy token-exchange-no-upscoping (executor downscope-assertion-grant-enforcer), and the MCP server checking scopes before it exchanges (defence in depth).',
    break: (ctx) => setClientPolicyEnabled(ctx.kc, 'token-exchange-no-upscoping', false),
    fix: (ctx) => setClientPolicyEnabled(ctx.kc, 'token-exchange-no-upscoping', true),
    probe: upscopeProbe,
  },
  {
    name: 'dcr-scopes',
    title: "Widen the DCR policy's allowed client scopes to stock-api-audience",
    story:
      'Anonymous dynamic client registration lets any program become a client. The Allowed Client Scopes policy keeps registrants to the MCP scopes.',
    symptom:
      "An anonymous registration asking for stock-api-audience succeeds: that client's user tokens would name the stock API in aud.",
    caughtBy:
      "Keycloak's anonymous registration policy Allowed Client Scopes; the stock API also refuses tokens with several audiences.",
    async break(ctx) {
      const policy = await anonymousPolicy(ctx.kc, 'allowed-client-templates');
      if (!policy) throw new Error('The realm has no anonymous Allowed Client Scopes policy.');
      const allowed = policy.config['allowed-client-scopes'] ?? [];
      if (!allowed.includes('stock-api-audience'))
        await ctx.kc.admin(`/components/${policy.id}`, {
          method: 'PUT',
          body: {
            ...policy,
            config: { ...policy.config, 'allowed-client-scopes': [...allowed, 'stock-api-audience'] },
          },
        });
    },
    async fix(ctx) {
      const policy = await anonymousPolicy(ctx.kc, 'allowed-client-templates');
      if (!policy) throw new Error('The realm has no anonymous Allowed Client Scopes policy.');
      const allowed = policy.config['allowed-client-scopes'] ?? [];
      await ctx.kc.admin(`/components/${policy.id}`, {
        method: 'PUT',
        body: {
          ...policy,
          config: { ...policy.config, 'allowed-client-scopes': allowed.filter((s) => s !== 'stock-api-audience') },
        },
      });
    },
    probe: registrationProbe,
  },
  {
    name: 'trader-role',
    title: 'Drop the trader role from the trade:write client scope',
    story:
      "A client scope with a role scope mapping is granted only to users with that role: trade:write needs 'trader', which alice has and bob has not.",
    symptom: 'bob gets trade:write in his token, so the MCP server lets him place orders.',
    caughtBy:
      "The realm's role scope mapping (the MCP server trusts the token's scope; the doctor finds a write scope without a role).",
    async break(ctx) {
      const id = await scopeId(ctx.kc, 'trade:write');
      const roles = await ctx.kc.admin<Array<{ name: string }>>(`/client-scopes/${id}/scope-mappings/realm`);
      if (roles.some((r) => r.name === 'trader'))
        await ctx.kc.admin(`/client-scopes/${id}/scope-mappings/realm`, {
          method: 'DELETE',
          body: [await traderRole(ctx.kc)],
        });
    },
    async fix(ctx) {
      await ctx.kc.admin(`/client-scopes/${await scopeId(ctx.kc, 'trade:write')}/scope-mappings/realm`, {
        method: 'POST',
        body: [await traderRole(ctx.kc)],
      });
    },
    probe: bobScopeProbe,
  },
  {
    name: 'token-lifespan',
    title: 'Make access tokens live a working day (8 h)',
    story:
      'An access token cannot be recalled once issued: its lifetime is how long a leaked one stays useful. The sandbox issues 5-minute tokens and refreshes them.',
    symptom: 'New access tokens expire in 8 h instead of 5 min.',
    caughtBy: 'Only review: nothing fails, which is why the doctor looks for it (more than 15 minutes is a finding).',
    break: (ctx) => ctx.kc.admin('', { method: 'PUT', body: { accessTokenLifespan: 28_800 } }),
    fix: (ctx) => ctx.kc.admin('', { method: 'PUT', body: { accessTokenLifespan: shipped.accessTokenLifespan } }),
    probe: lifespanProbe,
  },
  {
    name: 'refresh-reuse',
    title: 'Stop rotating refresh tokens',
    story:
      'MCP 2026-07-28 wants refresh tokens rotated for public clients: each refresh returns a new one and a reused old one ends the grant, so a stolen refresh token is caught at its first use.',
    symptom: 'An old refresh token still works after it was used.',
    caughtBy: "Keycloak's revokeRefreshToken with refreshTokenMaxReuse 0 (the e2e suite replays one).",
    break: (ctx) => ctx.kc.admin('', { method: 'PUT', body: { revokeRefreshToken: false } }),
    fix: (ctx) =>
      ctx.kc.admin('', {
        method: 'PUT',
        body: { revokeRefreshToken: shipped.revokeRefreshToken, refreshTokenMaxReuse: shipped.refreshTokenMaxReuse },
      }),
    probe: refreshReuseProbe,
  },
];

export function findLab(name: string): Lab {
  const lab = LABS.find((l) => l.name === name);
  if (!lab) throw new Error(`No lab "${name}". The labs: ${LABS.map((l) => l.name).join(', ')}.`);
  return lab;
}

/** Puts every lab's setting back as shipped, and deletes the probe client (a password-grant client). */
export async function resetAll(ctx: LabContext): Promise<void> {
  for (const lab of LABS) await lab.fix(ctx);
  const [probe] = await ctx.kc.admin<Array<{ id: string }>>(`/clients?clientId=${PROBE_CLIENT_ID}`);
  if (probe) await ctx.kc.admin(`/clients/${probe.id}`, { method: 'DELETE' });
}
