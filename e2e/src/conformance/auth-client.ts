// Our OAuth client for the conformance suite's client scenarios: the SDK v2 client with the same provider shape as
// the browser suite (e2e/src/harness/browser.ts), except that the authorization step follows the redirect with
// fetch, because the conformance suite's authorization server approves without a login page.
// Usage (by the conformance CLI): node e2e/src/conformance/auth-client.ts <server-url>
// The CLI says which protocol version the scenario speaks (MCP_CONFORMANCE_PROTOCOL_VERSION) and hands pre-registered
// credentials over in MCP_CONFORMANCE_CONTEXT; both are parsed once here, as the services parse their config.
import { randomUUID } from 'node:crypto';
import {
  Client,
  ClientCredentialsProvider,
  CrossAppAccessProvider,
  DpopSession,
  PrivateKeyJwtProvider,
  requestJwtAuthorizationGrant,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { z } from 'zod';

const env = z
  .object({
    MCP_CONFORMANCE_SCENARIO: z.string().optional(),
    MCP_CONFORMANCE_PROTOCOL_VERSION: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    MCP_CONFORMANCE_CONTEXT: z
      .string()
      .transform((text) => JSON.parse(text) as unknown)
      .pipe(
        z
          .object({
            name: z.string().optional(),
            client_id: z.string().optional(),
            client_secret: z.string().optional(),
            // auth/client-credentials-jwt
            private_key_pem: z.string().optional(),
            signing_algorithm: z.string().optional(),
            // auth/enterprise-managed-authorization
            idp_client_id: z.string().optional(),
            idp_id_token: z.string().optional(),
            idp_token_endpoint: z.string().optional(),
            // auth/wif-jwt-bearer
            valid_jwt: z.string().optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .parse(process.env);
const context = env.MCP_CONFORMANCE_CONTEXT;
const scenario = env.MCP_CONFORMANCE_SCENARIO ?? context?.name ?? '';
/** The extension scenarios whose client is not a user's authorization-code client (handled by machineProvider()). */
const MACHINE_SCENARIOS = [
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/enterprise-managed-authorization',
  'auth/wif-jwt-bearer',
];
/** A client the scenario registered beforehand (auth/pre-registration); otherwise CIMD or DCR. */
const preRegistered = env.MCP_CONFORMANCE_CONTEXT?.client_id
  ? { client_id: env.MCP_CONFORMANCE_CONTEXT.client_id, client_secret: env.MCP_CONFORMANCE_CONTEXT.client_secret }
  : undefined;
/** 2026-07-28 has no initialize: pin it when the scenario speaks it; older scenarios negotiate as usual. */
const clientOptions =
  env.MCP_CONFORMANCE_PROTOCOL_VERSION === '2026-07-28' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {};

const REDIRECT = 'http://127.0.0.1:53682/callback';
/**
 * CIMD: the client's metadata-document URL, used as its client_id wherever the authorization server advertises
 * client_id_metadata_document_supported (else the SDK falls back to DCR). The conformance suite's test AS expects
 * exactly this URL; against the sandbox realm a client would use one on client-docs (e2e/src/cimd.test.ts).
 */
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

class HeadlessProvider {
  private client: unknown = preRegistered;
  /**
   * DPoP (RFC 9449): one key for the authorization server and the MCP server, used once the authorization server's
   * metadata advertises DPoP; the SDK then signs the token request and every MCP request, and retries each with the
   * nonce a use_dpop_nonce answer carries.
   */
  private readonly dpopSession = DpopSession.create();
  private useDpop = false;
  dpop() {
    return this.useDpop ? this.dpopSession : undefined;
  }
  private saved: unknown;
  private verifier = '';
  private discovery: unknown;
  private readonly stateValue = randomUUID();
  callback: URL | undefined;
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadataUrl() {
    return preRegistered ? undefined : CLIENT_METADATA_URL;
  }
  get clientMetadata() {
    return {
      client_name: 'mcp-keycloak-sandbox conformance client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.stateValue;
  }
  clientInformation() {
    return this.client as never;
  }
  saveClientInformation(info: unknown) {
    this.client = info;
  }
  tokens() {
    return this.saved as never;
  }
  saveTokens(tokens: unknown) {
    this.saved = tokens;
    // Discovery state lives for one authorization (it binds the callback leg to the AS it started at, SEP-2352): a
    // later 401 discovers again, so a server that moved to another authorization server is followed there.
    this.discovery = undefined;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(s: unknown) {
    this.discovery = s;
    const metadata = (s as { authorizationServerMetadata?: { dpop_signing_alg_values_supported?: unknown[] } })
      ?.authorizationServerMetadata;
    this.useDpop ||= (metadata?.dpop_signing_alg_values_supported?.length ?? 0) > 0;
  }
  discoveryState() {
    return this.discovery as never;
  }
  async redirectToAuthorization(url: URL) {
    let next: URL = url;
    for (let hop = 0; hop < 5; hop += 1) {
      const response = await fetch(next, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (!location) throw new Error(`authorization endpoint answered ${response.status} without a redirect`);
      next = new URL(location, next);
      if (next.href.startsWith(REDIRECT)) break;
    }
    if (next.searchParams.get('state') !== this.stateValue) throw new Error('OAuth state mismatch');
    this.callback = next;
  }
}

async function withAuth<T>(
  provider: HeadlessProvider,
  transport: StreamableHTTPClientTransport,
  action: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !provider.callback || attempt >= 2) throw error;
      await transport.finishAuth(provider.callback.searchParams);
      provider.callback = undefined;
    }
  }
}

/**
 * Workload identity (RFC 7523 jwt-bearer grant with a workload's JWT): the SDK has no provider for it. One attempt
 * only: a refused assertion is not retried (the scenario counts a retry as a warning).
 */
class WorkloadJwtBearerProvider {
  private saved: unknown;
  private attempted = false;
  private readonly clientId: string;
  private readonly assertion: string;
  constructor(clientId: string, assertion: string) {
    this.clientId = clientId;
    this.assertion = assertion;
  }
  get redirectUrl() {
    return undefined;
  }
  get clientMetadata() {
    return {
      client_name: 'mcp-keycloak-sandbox workload',
      redirect_uris: [],
      grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return { client_id: this.clientId };
  }
  tokens() {
    return this.saved as never;
  }
  saveTokens(tokens: unknown) {
    this.saved = tokens;
  }
  redirectToAuthorization(): never {
    throw new Error('a workload has no browser: jwt-bearer only');
  }
  saveCodeVerifier() {}
  codeVerifier(): string {
    throw new Error('a workload has no code verifier');
  }
  prepareTokenRequest(scope?: string) {
    if (this.attempted) throw new Error('the jwt-bearer grant is not retried after a refusal');
    this.attempted = true;
    const params = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: this.assertion,
    });
    if (scope) params.set('scope', scope);
    return params;
  }
}

/** The provider of an extension scenario with no user (SEP-1046 client credentials, SEP-990 ID-JAG, workload identity). */
function machineProvider(): OAuthClientProvider {
  const need = (value: string | undefined, name: string) => {
    if (!value) throw new Error(`${scenario}: MCP_CONFORMANCE_CONTEXT has no ${name}`);
    return value;
  };
  const clientId = need(context?.client_id, 'client_id');
  switch (scenario) {
    case 'auth/client-credentials-basic':
      return new ClientCredentialsProvider({ clientId, clientSecret: need(context?.client_secret, 'client_secret') });
    case 'auth/client-credentials-jwt':
      return new PrivateKeyJwtProvider({
        clientId,
        privateKey: need(context?.private_key_pem, 'private_key_pem'),
        algorithm: context?.signing_algorithm ?? 'ES256',
      });
    case 'auth/enterprise-managed-authorization':
      // The enterprise IdP's token exchange turns the user's ID token into an ID-JAG for this authorization server and
      // resource; the authorization server redeems it with the jwt-bearer grant. No browser, no consent screen.
      return new CrossAppAccessProvider({
        clientId,
        clientSecret: need(context?.client_secret, 'client_secret'),
        assertion: async (ctx) =>
          (
            await requestJwtAuthorizationGrant({
              tokenEndpoint: need(context?.idp_token_endpoint, 'idp_token_endpoint'),
              audience: ctx.authorizationServerUrl,
              resource: ctx.resourceUrl,
              idToken: need(context?.idp_id_token, 'idp_id_token'),
              clientId: need(context?.idp_client_id, 'idp_client_id'),
              fetchFn: ctx.fetchFn,
            })
          ).jwtAuthGrant,
      });
    default:
      return new WorkloadJwtBearerProvider(clientId, need(context?.valid_jwt, 'valid_jwt')) as never;
  }
}

const serverUrl = new URL(process.argv[2] ?? '');
if (MACHINE_SCENARIOS.includes(scenario)) {
  const machine = new Client({ name: 'sandbox-conformance-client', version: '1.0.0' }, clientOptions as never);
  await machine.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: machineProvider() }));
  const listed = await machine.listTools();
  await machine.callTool({ name: listed.tools[0]?.name ?? 'test-tool', arguments: {} });
  await machine.close();
  process.exit(0);
}
const provider = new HeadlessProvider();
let transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider as never });
let client = new Client({ name: 'sandbox-conformance-client', version: '1.0.0' }, clientOptions as never);
try {
  await client.connect(transport);
} catch (error) {
  if (!(error instanceof UnauthorizedError) || !provider.callback) throw error;
  await transport.finishAuth(provider.callback.searchParams);
  provider.callback = undefined;
  transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider as never });
  client = new Client({ name: 'sandbox-conformance-client', version: '1.0.0' }, clientOptions as never);
  await client.connect(transport);
}
const tools = await withAuth(provider, transport, () => client.listTools());
const tool = tools.tools[0]?.name ?? 'test-tool';
await withAuth(provider, transport, () => client.callTool({ name: tool, arguments: {} }));
await client.close();
