// The MCP server's copy of realm facts must match the realm file it runs against.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_CHALLENGE_SCOPES, SCOPE_ROLES, MCP_SCOPES } from '../../server/src/auth/scopes.ts';
import { realmFile } from './paths.ts';

const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as {
  clientScopes: Array<{ name: string }>;
  scopeMappings: Array<{ clientScope: string; roles: string[] }>;
  components: Record<string, Array<{ providerId: string; subType?: string; config: Record<string, string[]> }>>;
};

describe('realm file and MCP server agree', () => {
  it("SCOPE_ROLES is the realm's role scope mapping of each single-role MCP scope", () => {
    const fromRealm = Object.fromEntries(
      realm.scopeMappings
        .filter((m) => m.clientScope !== 'mcp:tools' && MCP_SCOPES.includes(m.clientScope as never))
        .map((m) => [m.clientScope, m.roles.join(' ')]),
    );
    assert.deepEqual(fromRealm, SCOPE_ROLES);
  });

  it('every scope the server advertises is a client scope of the realm', () => {
    const names = new Set(realm.clientScopes.map((s) => s.name));
    for (const scope of MCP_SCOPES) assert.ok(names.has(scope), `${scope} is not in the realm`);
  });

  it('the mcp-optional-scopes registration policy gives anonymous registrants every scope the server can ask for', () => {
    const policies = realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'] ?? [];
    const policy = policies.find((p) => p.providerId === 'mcp-optional-scopes');
    assert.equal(policy?.subType, 'anonymous', 'the realm has no anonymous mcp-optional-scopes policy');
    assert.deepEqual([...(policy?.config.scopes ?? [])].sort(), [...MCP_SCOPES].sort());
  });

  it("a registrant that names no scope gets the server's first-challenge scopes as defaults (nothing more)", () => {
    const policies = realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'] ?? [];
    const policy = policies.find((p) => p.providerId === 'mcp-optional-scopes');
    assert.deepEqual([...(policy?.config['default-scopes'] ?? [])].sort(), [...DEFAULT_CHALLENGE_SCOPES].sort());
  });

  it('browser pages may register only through the loopback-origins policy, for anonymous registrations', () => {
    const policies = realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'] ?? [];
    const loopback = policies.filter((p) => p.providerId === 'loopback-registration-origins');
    assert.deepEqual(
      loopback.map((p) => p.subType),
      ['anonymous'],
    );
    // Keycloak's exact-origin policy would admit one fixed port, or "*" (every website): neither is wanted.
    assert.equal(
      policies.some((p) => p.providerId === 'registration-web-origins'),
      false,
    );
  });
});
