import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@sandbox/stack';
import { checkRealm, resolvePlaceholders } from './doctor.ts';
import { REGISTRATION_POLICY } from './realm-api.ts';

const MCP = 'http://localhost:3000/mcp';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Realm = any;
const shipped = (): Realm =>
  JSON.parse(readFileSync(join(repoRoot, 'keycloak', 'realm', 'sandbox-realm.json'), 'utf8')) as Realm;
const ids = (realm: Realm) => checkRealm(realm, MCP).map((f) => f.id);
const mcpClient = (realm: Realm) => realm.clients.find((c: Realm) => String(c.clientId).includes('MCP_RESOURCE_URL'));
const scope = (realm: Realm, name: string) => realm.clientScopes.find((s: Realm) => s.name === name);

describe('make doctor on a realm export', () => {
  it('finds nothing wrong in the realm the sandbox ships', () => {
    assert.deepEqual(checkRealm(shipped(), MCP), []);
  });

  it('reads ${VAR:default} placeholders as their defaults', () => {
    assert.equal(resolvePlaceholders('${MCP_RESOURCE_URL:http://localhost:3000/mcp}'), MCP);
  });

  it('names the MCP client as missing when the resource URL differs', () => {
    assert.ok(
      ids(shipped()).length === 0 && checkRealm(shipped(), 'http://other/mcp').some((f) => f.id === 'mcp-client'),
    );
  });

  const cases: Array<[string, (realm: Realm) => void]> = [
    ['audience-mapper', (r) => (scope(r, 'trade:read').protocolMappers = [])],
    ['exchange-permission', (r) => (mcpClient(r).attributes['standard.token.exchange.enabled'] = 'false')],
    ['stock-audience', (r) => (mcpClient(r).defaultClientScopes = ['basic', 'profile'])],
    [
      'upscope-guard',
      (r) => (r.clientPolicies.policies.find((p: Realm) => p.name === 'token-exchange-no-upscoping').enabled = false),
    ],
    [
      'dcr-scopes',
      (r) =>
        r.components[REGISTRATION_POLICY].find(
          (c: Realm) => c.providerId === 'allowed-client-templates' && c.subType === 'anonymous',
        ).config['allowed-client-scopes'].push('stock-api-audience'),
    ],
    [
      'dcr-consent',
      (r) =>
        (r.components[REGISTRATION_POLICY] = r.components[REGISTRATION_POLICY].filter(
          (c: Realm) => c.providerId !== 'consent-required',
        )),
    ],
    ['trader-role', (r) => (r.scopeMappings.find((m: Realm) => m.clientScope === 'trade:write').roles = [])],
    ['token-lifespan', (r) => (r.accessTokenLifespan = 86_400)],
    ['refresh-reuse', (r) => (r.revokeRefreshToken = false)],
    ['probe-client', (r) => r.clients.push({ clientId: 'workshop-probe', directAccessGrantsEnabled: true })],
  ];
  for (const [id, breakIt] of cases)
    it(`finds ${id}, and only it, with a fix`, () => {
      const realm = shipped();
      breakIt(realm);
      const findings = checkRealm(realm, MCP);
      assert.deepEqual(
        findings.map((f) => f.id),
        [id],
      );
      assert.ok(findings[0]!.fix.length > 10);
    });
});
