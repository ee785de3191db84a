// The realm side of check-server: real Keycloak tokens minted for the target's audience. Through the admin API it
// creates throwaway clients (password grant, an audience mapper naming the target's resource), one of them in the
// master realm for the other-issuer case; `cleanup()` deletes them all. Tokens stay in memory, never printed.
import { randomBytes } from 'node:crypto';
import { keycloakAdmin } from '@sandbox/stack';

export interface RealmAccess {
  keycloak: string;
  realm: string;
  adminUser: string;
  adminPassword: string;
}

export interface Grant {
  accessToken: string;
  idToken?: string;
  scope: string;
}

export class SetupError extends Error {
  override name = 'SetupError';
}

const OTHER_RESOURCE = 'https://other-resource.invalid/mcp';

const audienceMapper = (audience: string, idToken: boolean) => ({
  name: `audience ${audience}`.slice(0, 255),
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: {
    'included.custom.audience': audience,
    'access.token.claim': 'true',
    'id.token.claim': String(idToken),
    'introspection.token.claim': 'true',
  },
});

export interface TestRealm {
  /** A token for `user` with `scope` from the client whose audience mapper names the target's resource. */
  grant(user: { username: string; password: string }, scope: string): Promise<Grant>;
  /** The same, from a client whose tokens live `lifespanS` seconds. */
  shortLived(user: { username: string; password: string }, scope: string): Promise<Grant>;
  /** A real token of this realm whose audience is another resource only. */
  otherAudience(user: { username: string; password: string }): Promise<Grant>;
  /** A real token from another realm (master) on the same Keycloak, with the target's resource in its audience. */
  otherRealm(): Promise<Grant>;
  /** Realm client scopes with these names (the throwaway clients can only request existing ones). */
  readonly scopes: readonly string[];
  cleanup(): Promise<string[]>;
}

/** Creates the throwaway clients for `resource`; `scopes` become their optional client scopes (existing ones only). */
export async function createTestRealm(
  access: RealmAccess,
  resource: string,
  wantedScopes: readonly string[],
  lifespanS = 2,
): Promise<TestRealm> {
  const suffix = randomBytes(4).toString('hex');
  const admin = keycloakAdmin(access.keycloak, { username: access.adminUser, password: access.adminPassword });
  const created: Array<{ path: string; what: string }> = [];

  async function adminCall(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await admin.fetch(path, init);
    } catch (error) {
      throw new SetupError(`${(error as Error).message} (check --keycloak, --admin-user, --admin-password)`);
    }
  }

  /** POSTs a representation; remembers its Location (what cleanup() deletes). */
  async function create(path: string, body: unknown, what: string): Promise<void> {
    const response = await adminCall(path, { method: 'POST', body: JSON.stringify(body) });
    const location = response.headers.get('location') ?? '';
    const at = location.indexOf('/admin/realms');
    if (response.status !== 201 || at < 0)
      throw new SetupError(`creating ${what} failed: ${response.status} ${(await response.text()).slice(0, 200)}`);
    created.push({ path: location.slice(at + '/admin/realms'.length), what });
  }

  const realmScopes = await adminCall(`/${access.realm}/client-scopes`);
  if (!realmScopes.ok)
    throw new SetupError(`realm "${access.realm}" not readable (${realmScopes.status}): check --realm`);
  const existing = new Set(((await realmScopes.json()) as Array<{ name: string }>).map((s) => s.name));
  const scopes = wantedScopes.filter((s) => existing.has(s));

  const clientIdOf = (kind: string) => `check-server-${kind}-${suffix}`;
  async function createClient(kind: string, extra: Record<string, unknown>, realm = access.realm): Promise<void> {
    const clientId = clientIdOf(kind);
    await create(
      `/${realm}/clients`,
      {
        clientId,
        description: 'check-server throwaway client (deleted when the check ends)',
        publicClient: true,
        directAccessGrantsEnabled: true,
        standardFlowEnabled: false,
        fullScopeAllowed: true,
        defaultClientScopes: ['basic', 'profile'],
        ...extra,
      },
      `client ${clientId}`,
    );
  }

  async function passwordGrant(realm: string, clientId: string, username: string, password: string, scope: string) {
    const response = await fetch(`${access.keycloak}/realms/${realm}/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password, scope }),
    });
    if (!response.ok)
      throw new SetupError(
        `password grant for ${username} at ${realm}/${clientId} failed: ${response.status} ${(await response.text()).slice(0, 200)}`,
      );
    const body = (await response.json()) as { access_token: string; id_token?: string; scope?: string };
    return { accessToken: body.access_token, idToken: body.id_token, scope: body.scope ?? '' };
  }

  const targetClient = { optionalClientScopes: scopes, protocolMappers: [audienceMapper(resource, true)] };
  const creations = await Promise.allSettled([
    createClient('target', targetClient),
    createClient('short', { ...targetClient, attributes: { 'access.token.lifespan': String(lifespanS) } }),
    createClient('other-aud', { protocolMappers: [audienceMapper(OTHER_RESOURCE, false)] }),
    createClient('other-realm', { protocolMappers: [audienceMapper(resource, false)] }, 'master'),
  ]);
  const failed = creations.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) {
    // The ones that were created are password-grant clients for the target's audience: never leave them behind.
    await Promise.all(created.splice(0).map((item) => adminCall(item.path, { method: 'DELETE' }).catch(() => {})));
    throw failed.reason;
  }

  return {
    scopes,
    grant: (user, scope) =>
      passwordGrant(access.realm, clientIdOf('target'), user.username, user.password, `openid ${scope}`),
    shortLived: (user, scope) => passwordGrant(access.realm, clientIdOf('short'), user.username, user.password, scope),
    otherAudience: (user) =>
      passwordGrant(access.realm, clientIdOf('other-aud'), user.username, user.password, 'profile'),
    // The master realm of the same Keycloak: another issuer and other keys, with this resource in the audience.
    otherRealm: () =>
      passwordGrant('master', clientIdOf('other-realm'), access.adminUser, access.adminPassword, 'profile'),
    async cleanup() {
      const items = created.splice(0);
      const answers = await Promise.all(
        items.map((item) => adminCall(item.path, { method: 'DELETE' }).catch((e: Error) => e)),
      );
      return items
        .filter((_, i) => {
          const answer = answers[i];
          return answer instanceof Error || (answer?.status !== 204 && answer?.status !== 404);
        })
        .map((item) => `deleting ${item.what} failed; delete it in the Keycloak admin console`);
    },
  };
}

export { OTHER_RESOURCE };
