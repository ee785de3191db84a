// The running stack's half of `make doctor`: what docs/troubleshooting.md asks you to look at, asked directly.
import { REALM } from '@sandbox/stack';
import type { Finding } from './doctor.ts';
import type { Keycloak } from './keycloak.ts';

export interface LiveTargets {
  keycloak: string;
  mcpUrl: string;
  stockApi: string;
}

async function get(url: string, init?: RequestInit): Promise<Response | Error> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    return error as Error;
  }
}

export async function checkStack(targets: LiveTargets, kc: Keycloak): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (id: string, problem: string, fix: string) => findings.push({ id, problem, fix });
  const issuer = `${targets.keycloak}/realms/${REALM}`;
  const origin = new URL(targets.mcpUrl).origin;

  const metadata = await get(`${issuer}/.well-known/openid-configuration`);
  if (metadata instanceof Error || !metadata.ok)
    add(
      'keycloak',
      `Keycloak's realm ${REALM} does not answer at ${issuer} (${metadata instanceof Error ? metadata.message : `HTTP ${metadata.status}`}).`,
      'make status shows what runs; make up starts it (Keycloak needs 30-90 s; STACK_READY_TIMEOUT_S waits longer).',
    );

  const ready = await get(`${origin}/readyz`);
  if (ready instanceof Error)
    add(
      'mcp-server',
      `The MCP server does not answer at ${origin} (${ready.message}).`,
      'make up starts it; make status.',
    );
  else {
    const body = (await ready.json().catch(() => ({}))) as { status?: string; checks?: { cache?: { ok?: boolean } } };
    if (body.status === 'unavailable')
      add(
        'mcp-server',
        'The MCP server cannot reach Keycloak (readyz: unavailable).',
        'Check KEYCLOAK_INTERNAL_URL / ISSUER_URL of the MCP server and that Keycloak runs.',
      );
    if (body.checks?.cache?.ok === false)
      add(
        'redis',
        'The MCP server cannot reach Redis: calls work, but every call exchanges at Keycloak (readyz: degraded).',
        'Start Redis (make up does; natively redis-server must be installed) and check REDIS_URL.',
      );
  }

  const prmUrl = `${origin}/.well-known/oauth-protected-resource${new URL(targets.mcpUrl).pathname}`;
  const prm = await get(prmUrl);
  if (!(prm instanceof Error) && prm.ok) {
    const doc = (await prm.json()) as { resource?: string; authorization_servers?: string[] };
    if (doc.resource !== targets.mcpUrl)
      add(
        'prm',
        `Protected-resource metadata names resource ${doc.resource}, not ${targets.mcpUrl}: clients refuse it.`,
        'Set MCP_RESOURCE_URL of the MCP server to the URL clients use.',
      );
    if (!doc.authorization_servers?.includes(issuer))
      add(
        'prm',
        `Protected-resource metadata lists authorization servers ${JSON.stringify(doc.authorization_servers)}, not ${issuer}.`,
        'Set ISSUER_URL of the MCP server to the realm issuer clients see.',
      );
  } else if (!(ready instanceof Error))
    add('prm', `No protected-resource metadata at ${prmUrl}.`, 'Check MCP_RESOURCE_URL of the MCP server.');

  const challenge = await get(targets.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!(challenge instanceof Error) && !/resource_metadata="/.test(challenge.headers.get('www-authenticate') ?? ''))
    add(
      'challenge',
      `A request without a token got ${challenge.status} without a resource_metadata challenge: clients cannot discover the realm.`,
      'The MCP server must answer 401 with WWW-Authenticate: Bearer resource_metadata="…".',
    );

  const stock = await get(`${targets.stockApi}/healthz`);
  if (stock instanceof Error || !stock.ok)
    add('stock-api', `The stock API does not answer at ${targets.stockApi}.`, 'make up starts it; make status.');

  if (!(metadata instanceof Error) && metadata.ok) {
    const registration = await get(`${issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'make doctor: can this host register?',
        redirect_uris: ['http://127.0.0.1:9/callback'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        scope: 'mcp:tools',
      }),
    });
    if (registration instanceof Error || registration.status !== 201)
      add(
        'dcr-from-here',
        `Keycloak refused an ordinary anonymous registration from this machine (${registration instanceof Error ? registration.message : `HTTP ${registration.status}`}), so DCR clients (mcp-remote, the Inspector) cannot register.`,
        'With Docker Desktop, set KC_DCR_TRUSTED_HOST to the address Keycloak logs for the refused request, then make down && make up (docs/compose.md).',
      );
    else {
      const { client_id: id } = (await registration.json()) as { client_id?: string };
      const [created] = id ? await kc.admin<Array<{ id: string }>>(`/clients?clientId=${id}`) : [];
      if (created) await kc.admin(`/clients/${created.id}`, { method: 'DELETE' });
    }
  }
  return findings;
}
