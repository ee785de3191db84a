// Checks with a valid token: step-up on a missing tool scope (403 insufficient_scope), the Origin and Host rules,
// and no token passthrough (the sandbox stock API's record of token fingerprints).
import { createHash } from 'node:crypto';
import type { CheckResult } from '../report.ts';
import { describeResponse, scopeList } from './challenge.ts';
import { toResult } from './discovery.ts';
import { callTool, firstMessage, postInitialize, postWithHost } from './probe.ts';
import { RULES } from './rules.ts';

export async function checkStepUp(
  url: string,
  token: string,
  tools: readonly string[],
  tool: string,
  scope: string,
  args: Record<string, unknown>,
): Promise<CheckResult> {
  const started = performance.now();
  const base = {
    id: 'server.scope.step-up',
    title: `a token without ${scope} calling ${tool}: 403 insufficient_scope naming it`,
    rule: RULES.stepUp,
    started,
  };
  if (!tools.includes(tool))
    return toResult({
      ...base,
      outcome: { status: 'skip', fix: `the server lists no tool "${tool}" (--step-up-tool)` },
    });
  const probe = await callTool(url, token, tool, args);
  const c = probe.challenge;
  const observed = describeResponse(probe.status, c, probe.status === 403 ? '' : probe.body);
  const ok = probe.status === 403 && c?.error === 'insufficient_scope' && scopeList(c.scope).includes(scope);
  return toResult({
    ...base,
    outcome: ok
      ? { status: 'pass', observed }
      : {
          status: 'fail',
          observed,
          fix: `Before running ${tool}, compare the token's scopes with the tool's; if ${scope} is missing answer 403 with WWW-Authenticate: Bearer error="insufficient_scope", scope="<every scope the call needs>", resource_metadata="…" (an HTTP status, not a tool error), so the client can step up.`,
        },
  });
}

export async function checkOrigin(url: string, token: string): Promise<CheckResult> {
  const started = performance.now();
  const probe = await postInitialize(url, token, { origin: 'https://attacker.example' });
  const ok = probe.status === 403;
  return toResult({
    id: 'server.transport.origin',
    title: 'a request with a foreign Origin is refused (403)',
    rule: RULES.origin,
    started,
    outcome: {
      status: ok ? 'pass' : 'fail',
      observed: `Origin: https://attacker.example → ${describeResponse(probe.status, probe.challenge, ok ? '' : probe.body)}`,
      ...(ok
        ? {}
        : {
            fix: 'Check Origin before anything else: when present and not one of your allowed origins, answer 403 (the MCP SDKs: originValidationResponse / allowedOrigins).',
          }),
    },
  });
}

export async function checkHost(url: string, token: string): Promise<CheckResult> {
  const started = performance.now();
  const answer = await postWithHost(url, token, 'rebound.attacker.example');
  const ok = answer.status >= 400 && answer.status < 500;
  return toResult({
    id: 'server.transport.host',
    title: 'a request with a foreign Host (DNS rebinding) is refused (4xx)',
    rule: RULES.host,
    started,
    outcome: {
      status: ok ? 'pass' : 'fail',
      observed: `Host: rebound.attacker.example → HTTP ${answer.status}${ok ? '' : `; body: ${answer.body.slice(0, 160)}`}`,
      ...(ok
        ? {}
        : {
            fix: 'Allow only the host names you serve (the MCP SDKs: hostHeaderValidationResponse / allowedHosts); answer others with 403 or 421.',
          }),
    },
  });
}

interface Fingerprint {
  at: string;
  route: string;
  sha256: string;
}

async function fingerprints(stockApi: string): Promise<Fingerprint[] | undefined> {
  try {
    const response = await fetch(`${stockApi}/audit/token-fingerprints`);
    if (!response.ok) return undefined;
    return ((await response.json()) as { fingerprints: Fingerprint[] }).fingerprints;
  } catch {
    return undefined;
  }
}

export async function checkPassthrough(
  url: string,
  mintToken: () => Promise<string>,
  tools: readonly string[],
  tool: string,
  args: Record<string, unknown>,
  stockApi: string,
): Promise<CheckResult> {
  const started = performance.now();
  const base = {
    id: 'server.token.no-passthrough',
    title: `the client's token never reaches the stock API (through ${tool})`,
    rule: RULES.passthrough,
    started,
  };
  const skip = (why: string) => toResult({ ...base, outcome: { status: 'skip', fix: why } });
  if (!tools.includes(tool)) return skip(`the server lists no tool "${tool}" (--passthrough-tool)`);
  const before = await fingerprints(stockApi);
  if (!before) return skip(`no token-fingerprint audit at ${stockApi}/audit/token-fingerprints (--stock-api)`);
  const since = Date.now() - 1000;
  const token = await mintToken();
  const sha256 = createHash('sha256').update(token).digest('hex');
  const probe = await callTool(url, token, tool, args);
  const after = (await fingerprints(stockApi)) ?? [];
  const reached = after.filter((f) => Date.parse(f.at) >= since);
  const leaked = after.find((f) => f.sha256 === sha256);
  const message = firstMessage(probe.body);
  const call = `tools/call ${tool}: HTTP ${probe.status}${message.error ? ` (${message.error.message ?? 'error'})` : ''}`;
  if (leaked)
    return toResult({
      ...base,
      outcome: {
        status: 'fail',
        observed: `${call}; the stock API received the user's own token (SHA-256 ${sha256.slice(0, 16)}…) on ${leaked.route}`,
        fix: "Never forward the client's Authorization header: exchange the token for one whose audience is the upstream (RFC 8693, audience stock-api) and send that.",
      },
    });
  if (!reached.length)
    return skip(
      `${call}; nothing reached the stock API at ${stockApi} during the call, so passthrough is not observable`,
    );
  return toResult({
    ...base,
    outcome: {
      status: 'pass',
      observed: `${call}; ${reached.length} token(s) reached the stock API meanwhile, none was the user's (SHA-256 ${sha256.slice(0, 16)}…)`,
    },
  });
}
