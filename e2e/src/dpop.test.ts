// DPoP (RFC 9449) end to end: the SDK v2 client with a DpopSession signs in as alice over HTTP through Keycloak's form,
// Keycloak binds her token to the client's key (cnf.jkt, token_type DPoP), the MCP server checks a fresh proof on
// every request and exchanges the bound token for the stock API (the sandbox's token-exchange provider
// sandbox-dpop-subject; Keycloak's own refuses bound subject tokens). The guard: the same token stolen, sent as
// Bearer, without a proof, with the thief's own proof, or with a replayed proof, is refused. docs/dpop.md.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, DpopSession, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { SANDBOX_USERS } from '@sandbox/stack';
import { httpSession, signInAtKeycloak } from '@sandbox/scale/http-session';
import { recordToken } from './harness/forge.ts';
import { decodeClaims } from './harness/keycloak.ts';
import { rawPost, toolCall } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

const REDIRECT = 'http://127.0.0.1:49998/callback';
const alice = SANDBOX_USERS.find((user) => user.username === 'alice') as { username: string; password: string };

/** The SDK's OAuthClientProvider kept in memory, signing in over HTTP, with DPoP on (one key for AS and RS). */
class DpopProvider {
  client: unknown;
  saved: { access_token: string; token_type?: string } | undefined;
  verifier = '';
  discovery: unknown;
  callback: URL | undefined;
  readonly stateValue = crypto.randomUUID();
  readonly session = httpSession();
  readonly dpopSession: DpopSession;
  constructor(dpopSession: DpopSession) {
    this.dpopSession = dpopSession;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: 'e2e dpop client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  dpop() {
    return this.dpopSession;
  }
  state = () => this.stateValue;
  clientInformation = () => this.client as never;
  saveClientInformation = (info: unknown) => void (this.client = info);
  tokens = () => this.saved as never;
  saveTokens = (tokens: { access_token: string }) => void (this.saved = tokens);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
  saveDiscoveryState = (state: unknown) => void (this.discovery = state);
  discoveryState = () => this.discovery as never;
  async redirectToAuthorization(url: URL) {
    this.callback = await signInAtKeycloak(this.session, url, alice);
  }
}

async function signedIn(): Promise<{ client: Client; provider: DpopProvider }> {
  const provider = new DpopProvider(await DpopSession.create());
  const url = new URL(stack().urls.mcp);
  let transport = new StreamableHTTPClientTransport(url, { authProvider: provider as never });
  let client = new Client({ name: 'e2e-dpop', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || !provider.callback) throw error;
    await transport.finishAuth(provider.callback.searchParams);
    transport = new StreamableHTTPClientTransport(url, { authProvider: provider as never });
    client = new Client({ name: 'e2e-dpop', version: '1.0.0' });
    await client.connect(transport);
  }
  return { client, provider };
}

/** whoami (any valid token may call it), sent as-is with these headers. */
const post = (headers: Record<string, string>) => rawPost(toolCall('whoami'), headers);

describe('DPoP (RFC 9449): sender-constrained tokens, end to end', () => {
  it('advertises DPoP in the protected-resource metadata, bearer tokens still accepted', async () => {
    const prm = (await (
      await fetch(`${new URL(stack().urls.mcp).origin}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(prm.dpop_signing_alg_values_supported, ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA']);
    assert.equal(prm.dpop_bound_access_tokens_required, false);
  });

  it("binds alice's token to the client's key, and her DPoP client reads her portfolio through the exchange", async () => {
    const { client, provider } = await signedIn();
    try {
      const token = recordToken(provider.saved?.access_token ?? '');
      assert.equal(provider.saved?.token_type?.toLowerCase(), 'dpop');
      const claims = decodeClaims(token);
      assert.equal((claims.cnf as { jkt?: string } | undefined)?.jkt, provider.dpopSession.thumbprint);
      const result = (await client.callTool({ name: 'get_portfolio', arguments: {} })) as {
        isError?: boolean;
        structuredContent?: { portfolio?: { owner?: { username?: string } } };
        content: unknown;
      };
      assert.ok(!result.isError, JSON.stringify(result.content));
      assert.equal(result.structuredContent?.portfolio?.owner?.username, 'alice');
    } finally {
      await client.close();
    }
  });

  it("refuses the stolen token: as Bearer, without a proof, with the thief's own proof, with a replayed proof", async () => {
    const { client, provider } = await signedIn();
    await client.close();
    const token = recordToken(provider.saved?.access_token ?? '');
    const thief = await DpopSession.create();
    const proofBy = (session: DpopSession) =>
      session.buildProof({ htm: 'POST', htu: stack().urls.mcp, accessToken: token });
    // The owner's own request works (so each refusal is about the one thing missing).
    const genuineProof = await proofBy(provider.dpopSession);
    const genuine = await post({ authorization: `DPoP ${token}`, dpop: genuineProof });
    assert.equal(genuine.status, 200, await genuine.clone().text());
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['as Bearer', { authorization: `Bearer ${token}` }, /^Bearer .*DPoP-bound/],
      ['without a proof', { authorization: `DPoP ${token}` }, /^DPoP .*error="invalid_dpop_proof"/],
      [
        "with the thief's own proof",
        { authorization: `DPoP ${token}`, dpop: await proofBy(thief) },
        /^DPoP .*error="invalid_dpop_proof".*another key/,
      ],
      [
        'with the replayed proof',
        { authorization: `DPoP ${token}`, dpop: genuineProof },
        /^DPoP .*error="invalid_dpop_proof".*used before/,
      ],
    ];
    for (const [what, headers, challenge] of cases) {
      const response = await post(headers);
      assert.equal(response.status, 401, what);
      assert.match(response.headers.get('www-authenticate') ?? '', challenge, what);
    }
  });
});
