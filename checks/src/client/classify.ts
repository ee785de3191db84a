// The verdicts of check-client, from what was observed (pure: no I/O; unit-tested in classify.test.ts). A step the
// client was not seen doing is a failure only when check-client could have seen it; otherwise it is skipped with
// the reason ("not observable", "not exercised"), never counted as a pass.
import type { CheckResult } from '../report.ts';
import { parseChallenge, type Exchange, type Observations } from './observations.ts';

const SPEC = 'MCP 2025-11-25 authorization';
const NO_PROXY_TRAFFIC =
  'not observable: the client sent no HTTP request through HTTP_PROXY (check-client sets HTTP_PROXY, http_proxy and NODE_USE_ENV_PROXY=1; make the client use them, or use a Node ≥ 22.21 client)';

type Verdict = Pick<CheckResult, 'status' | 'observed' | 'fix'>;
interface Step {
  id: string;
  title: string;
  rule: string;
  judge: (o: Observations) => Verdict;
}

const pass = (observed: string): Verdict => ({ status: 'pass', observed });
const fail = (observed: string, fix: string): Verdict => ({ status: 'fail', observed, fix });
const skip = (fix: string, observed?: string): Verdict => ({ status: 'skip', fix, ...(observed ? { observed } : {}) });

const path = (e: Exchange) => new URL(e.url).pathname;
const isMcp = (o: Observations, e: Exchange) => e.url.split('?')[0] === o.mcpUrl;
const proxied = (o: Observations) => o.exchanges.length > 0;
const line = (e: Exchange) => `${e.method} ${e.url} → ${e.status} at +${e.at} ms`;
const scopesOf = (value: string | undefined) => (value ?? '').split(/\s+/).filter(Boolean);
const missing = (wanted: string[], got: string[]) => wanted.filter((scope) => !got.includes(scope));
const tokenRequests = (o: Observations, grant: string) =>
  o.exchanges.filter((e) => e.method === 'POST' && e.body?.grant_type === grant);
const registrations = (o: Observations) =>
  o.exchanges.filter((e) => e.method === 'POST' && Array.isArray(e.body?.redirect_uris));

function noLogin(o: Observations): Verdict | undefined {
  if (o.authorizations.length === 0)
    return fail(
      'the client never sent the user to the authorization endpoint',
      'complete discovery and start the authorization code flow: print or open the authorization URL',
    );
  return undefined;
}

export const STEPS: readonly Step[] = [
  {
    id: 'client.prm-discovery',
    title: 'Reads the protected-resource metadata (RFC 9728) named by the 401 challenge',
    rule: `${SPEC} §Authorization Server Discovery: MCP clients MUST use OAuth 2.0 Protected Resource Metadata (RFC 9728) for authorization server discovery, and MUST interpret the WWW-Authenticate header of a 401`,
    judge(o) {
      if (!proxied(o)) return skip(NO_PROXY_TRAFFIC);
      const prm = o.exchanges.find(
        (e) => e.method === 'GET' && path(e).startsWith('/.well-known/oauth-protected-resource'),
      );
      if (prm) return pass(line(prm));
      const first401 = o.exchanges.find((e) => isMcp(o, e) && e.status === 401);
      return fail(
        first401
          ? `got ${line(first401)} but never fetched the metadata it names`
          : 'no GET of /.well-known/oauth-protected-resource…',
        "on a 401, GET the URL in the challenge's resource_metadata parameter (else /.well-known/oauth-protected-resource/<path>) and take authorization_servers from it",
      );
    },
  },
  {
    id: 'client.as-metadata',
    title: "Reads the authorization server's metadata (RFC 8414 or OpenID discovery)",
    rule: `${SPEC} §Authorization Server Metadata Discovery: MCP clients MUST obtain the authorization server's endpoints from its metadata (RFC 8414, or OpenID Connect Discovery)`,
    judge(o) {
      const meta = o.exchanges.find(
        (e) => e.method === 'GET' && /\/\.well-known\/(oauth-authorization-server|openid-configuration)/.test(path(e)),
      );
      if (meta) return pass(line(meta));
      const reached = o.authorizations[0];
      if (!proxied(o))
        return skip(
          NO_PROXY_TRAFFIC,
          reached
            ? `inferred only: the user was sent to ${o.issuer}'s authorization endpoint, which the metadata names`
            : undefined,
        );
      return fail(
        'no GET of /.well-known/oauth-authorization-server… or …/openid-configuration',
        `GET ${o.issuer}'s metadata (the issuer comes from authorization_servers in the protected-resource metadata) instead of building or hard-coding endpoint URLs`,
      );
    },
  },
  {
    id: 'client.registration',
    title: 'Identifies itself by a client ID metadata document (CIMD) or registers (DCR, with application_type)',
    rule: 'MCP 2026-07-28 authorization §Client Registration: clients SHOULD use Client ID Metadata Documents; Dynamic Client Registration (RFC 7591) is deprecated, and a DCR request MUST carry application_type',
    judge(o) {
      const clientId = o.authorizations[0]?.params.client_id;
      if (clientId?.startsWith('https://')) return pass(`CIMD: client_id ${clientId}`);
      const dcr = registrations(o)[0];
      if (dcr) {
        const what = `DCR (RFC 7591): ${line(dcr)}, application_type=${String(dcr.body?.application_type ?? '(absent)')}, token_endpoint_auth_method=${String(dcr.body?.token_endpoint_auth_method ?? '(absent)')}, redirect_uris=${JSON.stringify(dcr.body?.redirect_uris)}`;
        if (dcr.status !== 201)
          return fail(
            `${what}; refused: ${JSON.stringify(dcr.response ?? {})}`,
            'send registration metadata the realm accepts: loopback redirect_uris, MCP scopes only (see keycloak/README.md)',
          );
        if (!dcr.body?.application_type)
          return fail(
            what,
            'add "application_type": "native" (a CLI or desktop app with loopback redirects) or "web" to the registration request — or use a client ID metadata document',
          );
        return pass(what);
      }
      if (!clientId) return noLogin(o) as Verdict;
      if (!proxied(o))
        return skip(NO_PROXY_TRAFFIC, `client_id ${clientId} is not a URL: DCR or a pre-registered client`);
      return skip(
        `client_id ${clientId} was neither a metadata document URL nor registered during the run (pre-registered): nothing to judge`,
      );
    },
  },
  {
    id: 'client.authorization',
    title: "Sends the user to the authorization endpoint, and the login reaches the client's redirect URI",
    rule: 'OAuth 2.1 §4.1: authorization code grant; the scripted user signs in on the real Keycloak login page',
    judge(o) {
      const none = noLogin(o);
      if (none) return none;
      const failed = o.authorizations.find((a) => a.outcome === 'error');
      if (failed)
        return fail(
          `Keycloak refused authorization request ${o.authorizations.indexOf(failed) + 1}: ${failed.error ?? '(no message)'}`,
          'fix the authorization request as the message says',
        );
      return pass(
        `${o.authorizations.length} authorization request(s), each redirected back to ${o.authorizations[0]?.params.redirect_uri ?? '?'}`,
      );
    },
  },
  {
    id: 'client.pkce-s256',
    title: 'Uses PKCE with S256 (and sends the code_verifier)',
    rule: `${SPEC} §Authorization Code Protection: MCP clients MUST implement PKCE and MUST use the S256 code challenge method`,
    judge(o) {
      const none = noLogin(o);
      if (none) return none;
      const bad = o.authorizations.find(
        (a) => a.params.code_challenge_method !== 'S256' || (a.params.code_challenge ?? '').length < 43,
      );
      if (bad)
        return fail(
          `code_challenge_method=${bad.params.code_challenge_method ?? '(absent)'}, code_challenge ${bad.params.code_challenge ? `${bad.params.code_challenge.length} chars` : '(absent)'}`,
          'send code_challenge=BASE64URL(SHA256(code_verifier)) with code_challenge_method=S256 on every authorization request, and code_verifier on the token request',
        );
      const token = tokenRequests(o, 'authorization_code')[0];
      if (token && !token.body?.code_verifier)
        return fail('the token request carried no code_verifier', 'send the code_verifier with the authorization code');
      return pass(
        `code_challenge_method=S256 on ${o.authorizations.length} request(s)${token ? '; code_verifier sent on the token request' : ''}`,
      );
    },
  },
  {
    id: 'client.resource-authorization',
    title: 'Sends resource=<MCP server URL> (RFC 8707) on the authorization request',
    rule: `${SPEC} §Resource Parameter Implementation: MCP clients MUST include the resource parameter (RFC 8707) in authorization requests, identifying the MCP server`,
    judge(o) {
      const none = noLogin(o);
      if (none) return none;
      const bad = o.authorizations.find((a) => a.params.resource !== o.mcpUrl);
      if (bad)
        return fail(
          `resource=${bad.params.resource ?? '(absent)'}, expected ${o.mcpUrl}`,
          'add resource=<the resource from the protected-resource metadata> to every authorization request',
        );
      return pass(`resource=${o.mcpUrl} on ${o.authorizations.length} request(s)`);
    },
  },
  {
    id: 'client.resource-token',
    title: 'Sends resource=<MCP server URL> on the token request',
    rule: `${SPEC} §Resource Parameter Implementation: the resource parameter MUST be included in both authorization requests and token requests`,
    judge(o) {
      if (!proxied(o)) return skip(NO_PROXY_TRAFFIC);
      const token = tokenRequests(o, 'authorization_code');
      if (token.length === 0) return skip('no authorization_code token request was seen');
      const bad = token.find((e) => e.body?.resource !== o.mcpUrl);
      if (bad)
        return fail(
          `${line(bad)}: resource=${String(bad.body?.resource ?? '(absent)')}`,
          'add resource=<MCP server URL> to the token request too',
        );
      return pass(`resource=${o.mcpUrl} on ${token.length} token request(s)`);
    },
  },
  {
    id: 'client.scope-from-challenge',
    title: 'Asks for the scope the 401 challenge named',
    rule: `${SPEC} §Scope Selection Strategy: use the scope parameter of the initial WWW-Authenticate challenge when present`,
    judge(o) {
      const none = noLogin(o);
      if (none) return none;
      const asked = scopesOf(o.authorizations[0]?.params.scope);
      const lacking = missing(o.challengeScope, asked);
      const said = `asked for "${asked.join(' ')}"; the challenge said "${o.challengeScope.join(' ')}"`;
      if (lacking.length)
        return fail(
          `${said}; missing ${lacking.join(', ')}`,
          "request exactly the scopes in the 401 challenge's scope parameter (add others only if the client needs them)",
        );
      return pass(said);
    },
  },
  {
    id: 'client.authorized-call',
    title: 'Calls the MCP server with a bearer token whose audience is the server',
    rule: `${SPEC} §Token Handling: MCP clients MUST send the access token in the Authorization header on every request; RFC 8707: the token is bound to the requested resource`,
    judge(o) {
      const ok = o.exchanges.find((e) => isMcp(o, e) && e.bearer && e.status >= 200 && e.status < 300);
      if (ok) {
        const aud = ok.bearer?.aud ?? [];
        if (!aud.includes(o.mcpUrl))
          return fail(
            `${line(ok)}, token aud ${JSON.stringify(aud)}`,
            'request the token with resource=<MCP server URL>',
          );
        return pass(
          `${line(ok)}; token ${ok.bearer?.hash} aud=${JSON.stringify(aud)} scope="${ok.bearer?.scope ?? ''}"`,
        );
      }
      if (!proxied(o)) {
        const calls = Object.entries(o.stdioCalls ?? {}).filter(([, result]) => result === 'ok');
        return skip(
          NO_PROXY_TRAFFIC,
          calls.length
            ? `inferred only: tool calls succeeded over stdio (${calls.map(([n]) => n).join(', ')})`
            : undefined,
        );
      }
      return fail(
        'no MCP request with a bearer token succeeded',
        'after the token response, repeat the MCP request with Authorization: Bearer <access token>',
      );
    },
  },
  {
    id: 'client.step-up',
    title: 'Steps up after 403 insufficient_scope: authorizes again for the named scopes and retries',
    rule: `${SPEC} §Scope Challenge Handling: on 403 with error="insufficient_scope", clients SHOULD start a new authorization with the scopes the challenge names and retry the request`,
    judge(o) {
      if (!proxied(o)) return skip(NO_PROXY_TRAFFIC);
      const denied = o.exchanges.find(
        (e) => isMcp(o, e) && e.status === 403 && parseChallenge(e.challenge).error === 'insufficient_scope',
      );
      if (!denied)
        return skip(
          'not exercised: no request of the client got 403 insufficient_scope (in --stdio mode check-client calls place_order, which needs trade:write; a self-driven client must call it itself)',
        );
      const needed = parseChallenge(denied.challenge).scope;
      const again = o.authorizations.find(
        (a) => a.at > denied.at && missing(needed, scopesOf(a.params.scope)).length === 0,
      );
      if (!again)
        return fail(
          `${line(denied)} naming "${needed.join(' ')}", then no authorization request for those scopes`,
          'on 403 insufficient_scope, authorize again with the scope from that challenge (keep the scopes already granted) and retry',
        );
      const retried = o.exchanges.find(
        (e) =>
          isMcp(o, e) && e.at > again.at && e.status < 300 && missing(needed, scopesOf(e.bearer?.scope)).length === 0,
      );
      if (!retried)
        return fail(
          `re-authorized for "${again.params.scope}" but no later request with a token holding ${needed.join(' ')} succeeded`,
          'retry the refused request with the new token',
        );
      return pass(
        `${line(denied)} naming "${needed.join(' ')}"; re-authorized with scope "${again.params.scope}"; retried: ${line(retried)}`,
      );
    },
  },
  {
    id: 'client.token-refresh',
    title: 'Refreshes its token with resource=<MCP server URL>',
    rule: `${SPEC} §Resource Parameter Implementation (token requests include refresh requests); OAuth 2.1 §4.3`,
    judge(o) {
      if (!proxied(o)) return skip(NO_PROXY_TRAFFIC);
      const refresh = tokenRequests(o, 'refresh_token');
      if (refresh.length === 0)
        return skip(
          'not exercised: the client made no refresh_token request during the run (its tokens did not expire)',
        );
      const bad = refresh.find((e) => e.body?.resource !== o.mcpUrl);
      if (bad)
        return fail(
          `${line(bad)}: resource=${String(bad.body?.resource ?? '(absent)')}`,
          'send resource=<MCP server URL> on refresh requests too',
        );
      const refused = refresh.find((e) => e.status !== 200);
      if (refused)
        return fail(
          `${line(refused)}: ${JSON.stringify(refused.response ?? {})}`,
          'send the latest refresh token (public clients get a new one on each refresh)',
        );
      return pass(`${refresh.length} refresh request(s), resource=${o.mcpUrl}`);
    },
  },
];

/** One CheckResult per step, in the order of the flow. */
export function classify(observations: Observations): CheckResult[] {
  return STEPS.map((step) => ({
    id: step.id,
    title: step.title,
    rule: step.rule,
    ...step.judge(observations),
    durationMs: 0,
  }));
}
