// Small lookups on the sandbox realm through the admin API, shared by the labs.
import type { Keycloak } from './keycloak.ts';

export const MCP_SCOPES = ['mcp:tools', 'portfolio:read', 'trade:read', 'trade:write'] as const;
export const REGISTRATION_POLICY = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';

export interface ClientRep {
  id: string;
  clientId: string;
  attributes?: Record<string, string>;
  [key: string]: unknown;
}
export interface MapperRep {
  id?: string;
  name: string;
  protocol: string;
  protocolMapper: string;
  config: Record<string, string>;
}
export interface ComponentRep {
  id: string;
  name: string;
  providerId: string;
  subType?: string;
  config: Record<string, string[]>;
  [key: string]: unknown;
}

export async function client(kc: Keycloak, clientId: string): Promise<ClientRep> {
  const [found] = await kc.admin<ClientRep[]>(`/clients?clientId=${encodeURIComponent(clientId)}`);
  if (!found) throw new Error(`The realm has no client ${clientId}; is this the sandbox realm?`);
  return found;
}

export async function scopeId(kc: Keycloak, name: string): Promise<string> {
  const scopes = await kc.admin<Array<{ id: string; name: string }>>('/client-scopes');
  const found = scopes.find((scope) => scope.name === name);
  if (!found) throw new Error(`The realm has no client scope ${name}; is this the sandbox realm?`);
  return found.id;
}

export async function mappers(kc: Keycloak, scope: string): Promise<MapperRep[]> {
  return kc.admin<MapperRep[]>(`/client-scopes/${await scopeId(kc, scope)}/protocol-mappers/models`);
}

export async function anonymousPolicy(kc: Keycloak, providerId: string): Promise<ComponentRep | undefined> {
  const components = await kc.admin<ComponentRep[]>(`/components?type=${REGISTRATION_POLICY}`);
  return components.find((c) => c.providerId === providerId && c.subType === 'anonymous');
}

/** Sets one client attribute (the admin API replaces the whole client, so read it first). */
export async function setClientAttribute(kc: Keycloak, clientId: string, name: string, value: string): Promise<void> {
  const rep = await client(kc, clientId);
  await kc.admin(`/clients/${rep.id}`, {
    method: 'PUT',
    body: { ...rep, attributes: { ...rep.attributes, [name]: value } },
  });
}

export interface ClientPolicy {
  name: string;
  enabled: boolean;
  [key: string]: unknown;
}

export async function setClientPolicyEnabled(kc: Keycloak, name: string, enabled: boolean): Promise<void> {
  const { policies } = await kc.admin<{ policies: ClientPolicy[] }>('/client-policies/policies');
  const policy = policies.find((p) => p.name === name);
  if (!policy) throw new Error(`The realm has no client policy ${name}; is this the sandbox realm?`);
  policy.enabled = enabled;
  await kc.admin('/client-policies/policies', { method: 'PUT', body: { policies } });
}
