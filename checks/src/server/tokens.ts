// Token checks: a valid real token must work (through the MCP SDK client), and every misused or forged token must be
// refused with 401. Misuse uses real Keycloak tokens; forgeries are made only where the case is a forgery.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import type { CheckResult } from '../report.ts';
import { refusalVerdict } from './challenge.ts';
import { toResult } from './discovery.ts';
import {
  algorithmConfusionToken,
  copiedClaims,
  realmSigningKey,
  tamperedToken,
  unknownKeyToken,
  unsignedToken,
} from './forge.ts';
import { postInitialize, PROTOCOL_VERSION } from './probe.ts';
import type { Grant, TestRealm } from './realm.ts';
import { FIXES, RULES } from './rules.ts';

type User = { username: string; password: string };

/** initialize + tools/list with the SDK client (protocol 2025-11-25); the tool names, or the error. */
export async function listToolsWith(url: string, token: string): Promise<string[]> {
  const client = new Client({ name: 'check-server', version: '1.0.0' }, {
    supportedProtocolVersions: [PROTOCOL_VERSION],
  } as never);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  try {
    await client.connect(transport);
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close().catch(() => {});
  }
}

export async function checkValidToken(url: string, token: string): Promise<{ result: CheckResult; tools?: string[] }> {
  const started = performance.now();
  const check = {
    id: 'server.token.valid-accepted',
    title: 'a valid token for this resource is accepted',
    rule: RULES.validToken,
  };
  try {
    const tools = await listToolsWith(url, token);
    return {
      result: toResult({
        ...check,
        started,
        outcome: { status: 'pass', observed: `tools/list: ${tools.join(', ') || '(none)'}` },
      }),
      tools,
    };
  } catch (error) {
    const probe = await postInitialize(url, token).catch(() => undefined);
    return {
      result: toResult({
        ...check,
        started,
        outcome: {
          status: 'fail',
          observed: `${(error as Error).message.slice(0, 200)}${probe ? `; initialize: HTTP ${probe.status}` : ''}`,
          fix: 'Accept RS256 tokens from the realm whose "aud" includes your resource URL; see the other checks for what else is checked.',
        },
      }),
    };
  }
}

interface Refusal {
  id: string;
  title: string;
  rule: string;
  fix: string;
  token: () => Promise<string>;
}

/** Each refusal check: the token (minted or forged), sent with initialize, must get 401. */
export async function checkRefusals(
  url: string,
  realm: TestRealm,
  issuer: string,
  users: { user: User; other: User },
  valid: Grant,
  validAccepted: boolean,
): Promise<CheckResult[]> {
  const cases: Refusal[] = [
    {
      id: 'server.token.wrong-audience',
      title: 'a real realm token for another resource is refused (401)',
      rule: RULES.wrongAudience,
      fix: FIXES.audience,
      token: async () => (await realm.otherAudience(users.user)).accessToken,
    },
    {
      id: 'server.token.other-realm',
      title: 'a real token from another realm (same Keycloak, this audience) is refused (401)',
      rule: RULES.otherRealm,
      fix: `Accept only tokens whose "iss" is "${issuer}" and whose signature verifies with that issuer's JWKS.`,
      token: async () => (await realm.otherRealm()).accessToken,
    },
    {
      id: 'server.token.id-token',
      title: 'a real ID token (with this audience) instead of an access token is refused (401)',
      rule: RULES.idToken,
      fix: 'Check the token type: Keycloak access tokens carry "typ": "Bearer", ID tokens "typ": "ID" (or require the "at+jwt" header type, RFC 9068).',
      token: async () => {
        if (!valid.idToken) throw new Error('Keycloak returned no ID token for scope openid');
        return valid.idToken;
      },
    },
    {
      id: 'server.token.alg-none',
      title: 'an unsigned token (alg none) is refused (401)',
      rule: RULES.algNone,
      fix: FIXES.signature,
      token: async () => unsignedToken(copiedClaims(valid.accessToken)),
    },
    {
      id: 'server.token.alg-confusion',
      title: "HS256 signed with the realm's public key (algorithm confusion) is refused (401)",
      rule: RULES.algConfusion,
      fix: FIXES.signature,
      token: async () => algorithmConfusionToken(copiedClaims(valid.accessToken), await realmSigningKey(issuer)),
    },
    {
      id: 'server.token.unknown-key',
      title: "a token signed by a key not in the realm's JWKS is refused (401)",
      rule: RULES.unknownKey,
      fix: FIXES.signature,
      token: async () => unknownKeyToken(copiedClaims(valid.accessToken), (await realmSigningKey(issuer)).kid),
    },
    {
      id: 'server.token.tampered',
      title: "a real token with an edited payload (another user's identity) is refused (401)",
      rule: RULES.tampered,
      fix: FIXES.signature,
      token: async () => {
        const other = await realm.grant(users.other, valid.scope.replace(/\bopenid\b/, '').trim());
        const claims = decodeJwt(valid.accessToken);
        return tamperedToken(other.accessToken, { sub: claims.sub, preferred_username: claims.preferred_username });
      },
    },
  ];
  const results: CheckResult[] = [];
  for (const c of cases) {
    const started = performance.now();
    const base = { id: c.id, title: c.title, rule: c.rule, started };
    if (!validAccepted) {
      results.push(
        toResult({
          ...base,
          outcome: {
            status: 'skip',
            fix: 'the valid token was refused too, so a refusal here proves nothing; fix server.token.valid-accepted first',
          },
        }),
      );
      continue;
    }
    const token = await c.token();
    const probe = await postInitialize(url, token).catch((error: Error) => error);
    if (probe instanceof Error) {
      const observed = `the request failed: ${probe.message}`;
      results.push(toResult({ ...base, outcome: { status: 'fail', observed, fix: 'Answer a bad token with 401.' } }));
      continue;
    }
    const verdict = refusalVerdict(probe.status, probe.challenge, probe.status === 401 ? '' : probe.body);
    results.push(toResult({ ...base, outcome: { ...verdict, ...(verdict.status === 'fail' ? { fix: c.fix } : {}) } }));
  }
  return results;
}

/** The expired-token check in two halves: fresh use now, the refusal after it expired (so the wait overlaps). */
export async function startExpiryCheck(
  url: string,
  realm: TestRealm,
  user: User,
  scope: string,
  leewayS: number,
): Promise<() => Promise<CheckResult>> {
  const started = performance.now();
  const base = {
    id: 'server.token.expired',
    title: 'a real token past its exp is refused (401)',
    rule: RULES.expired,
    started,
  };
  const grant = await realm.shortLived(user, scope);
  const fresh = await postInitialize(url, grant.accessToken);
  const exp = Number(decodeJwt(grant.accessToken).exp);
  return async () => {
    if (fresh.status < 200 || fresh.status >= 300)
      return toResult({
        ...base,
        outcome: {
          status: 'skip',
          fix: `the short-lived token was refused while still valid (HTTP ${fresh.status}), so expiry cannot be told apart`,
        },
      });
    const wait = (exp + leewayS + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const probe = await postInitialize(url, grant.accessToken);
    const verdict = refusalVerdict(probe.status, probe.challenge, probe.status === 401 ? '' : probe.body);
    return toResult({
      ...base,
      outcome: {
        ...verdict,
        observed: `${leewayS + 1} s after exp: ${verdict.observed}`,
        ...(verdict.status === 'fail'
          ? {
              fix: `Verify "exp" (jose does by default; keep clockTolerance small). If your server allows more than ${leewayS} s of clock skew, pass --leeway-s.`,
            }
          : {}),
      },
    });
  };
}
