// Checks a client needs before it has a token: the protected-resource metadata (RFC 9728) and the 401 challenge.
import type { CheckResult } from '../report.ts';
import { describeResponse, scopeList, type Challenge } from './challenge.ts';
import { metadataUrl, postInitialize } from './probe.ts';
import { RULES } from './rules.ts';

export type Outcome = Pick<CheckResult, 'status' | 'observed' | 'fix'>;
export interface Check {
  id: string;
  title: string;
  rule: string;
  outcome: Outcome;
  /** When its requests started (performance.now()); the report's durationMs counts from here. */
  started: number;
}

/** A finished check as the report holds it. */
export function toResult(check: Check, ended = performance.now()): CheckResult {
  const { id, title, rule, outcome } = check;
  return { id, title, rule, ...outcome, durationMs: Math.round(ended - check.started) };
}

export interface Discovery {
  checks: CheckResult[];
  /** The resource the tokens are minted for: the metadata's, else the URL. */
  resource: string;
  challenge: Challenge | undefined;
  scopesSupported: string[];
}

interface Metadata {
  resource?: unknown;
  authorization_servers?: unknown;
  scopes_supported?: unknown;
}

export async function checkDiscovery(url: string, issuer: string): Promise<Discovery> {
  const checks: CheckResult[] = [];
  let started = performance.now();
  const add = (check: Omit<Check, 'started'>) => checks.push(toResult({ ...check, started }));
  const prmUrl = metadataUrl(url);
  let metadata: Metadata | undefined;
  let fetched: string;
  try {
    const response = await fetch(prmUrl, { headers: { accept: 'application/json' } });
    const text = await response.text();
    fetched = `GET ${prmUrl}: HTTP ${response.status}`;
    if (response.ok) metadata = JSON.parse(text) as Metadata;
  } catch (error) {
    fetched = `GET ${prmUrl}: ${(error as Error).message}`;
  }
  const resource = typeof metadata?.resource === 'string' ? metadata.resource : undefined;
  add({
    id: 'server.metadata.resource',
    title: 'protected-resource metadata at the path-suffixed URL names this server as "resource"',
    rule: RULES.prmResource,
    outcome: !metadata
      ? { status: 'fail', observed: fetched, fix: `Serve JSON metadata at ${prmUrl} with "resource": "${url}".` }
      : resource === url
        ? { status: 'pass', observed: `${fetched}, resource "${resource}"` }
        : {
            status: 'fail',
            observed: `${fetched}, resource ${JSON.stringify(metadata.resource)}`,
            fix: `Set "resource" to exactly "${url}" (scheme, host, port and path as clients use them).`,
          },
  });
  const servers = Array.isArray(metadata?.authorization_servers) ? (metadata.authorization_servers as unknown[]) : [];
  add({
    id: 'server.metadata.authorization-servers',
    title: 'the metadata lists the sandbox realm in "authorization_servers"',
    rule: RULES.prmAuthorizationServers,
    outcome: !metadata
      ? { status: 'fail', observed: fetched, fix: `Serve the metadata at ${prmUrl} first.` }
      : servers.includes(issuer)
        ? { status: 'pass', observed: `authorization_servers ${JSON.stringify(servers)}` }
        : {
            status: 'fail',
            observed: `authorization_servers ${JSON.stringify(metadata.authorization_servers ?? null)}`,
            fix: `List the realm's issuer "${issuer}" in "authorization_servers" (exactly as it appears in "iss").`,
          },
  });

  started = performance.now();
  const probe = await postInitialize(url, undefined);
  const challenge = probe.challenge;
  const observed = describeResponse(probe.status, challenge);
  add({
    id: 'server.challenge.bearer',
    title: 'no token: 401 with a WWW-Authenticate: Bearer challenge',
    rule: RULES.challengeBearer,
    outcome:
      probe.status === 401 && challenge?.scheme === 'bearer'
        ? { status: 'pass', observed }
        : {
            status: 'fail',
            observed,
            fix: `Answer a request without a token with 401 and WWW-Authenticate: Bearer resource_metadata="${prmUrl}" (before any MCP processing).`,
          },
  });
  add({
    id: 'server.challenge.resource-metadata',
    title: 'the 401 challenge carries resource_metadata pointing at the metadata',
    rule: RULES.challengeResourceMetadata,
    outcome:
      probe.status === 401 && challenge?.resourceMetadata === prmUrl
        ? { status: 'pass', observed: `resource_metadata="${challenge.resourceMetadata}"` }
        : {
            status: 'fail',
            observed: challenge?.resourceMetadata
              ? `resource_metadata="${challenge.resourceMetadata}", expected "${prmUrl}"`
              : observed,
            fix: `Add resource_metadata="${prmUrl}" to the 401 challenge.`,
          },
  });

  const scopesSupported = Array.isArray(metadata?.scopes_supported)
    ? (metadata.scopes_supported as unknown[]).filter((s): s is string => typeof s === 'string')
    : [];
  const asked = scopeList(challenge?.scope);
  const unlisted = scopesSupported.length ? asked.filter((s) => !scopesSupported.includes(s)) : [];
  add({
    id: 'server.challenge.scope',
    title: 'the 401 challenge\'s "scope" (if any) names scopes the metadata supports',
    rule: RULES.challengeScope,
    outcome: !asked.length
      ? { status: 'skip', fix: 'the 401 challenge has no "scope" parameter (optional)' }
      : unlisted.length
        ? {
            status: 'fail',
            observed: `scope="${challenge?.scope}"; not in scopes_supported: ${unlisted.join(' ')}`,
            fix: 'Name in the challenge only scopes your metadata lists in scopes_supported, or list them there.',
          }
        : { status: 'pass', observed: `scope="${challenge?.scope}"` },
  });
  return { checks, resource: resource ?? url, challenge, scopesSupported };
}
