// Our OAuth client for the conformance suite's client scenarios: the SDK v2 client with the same provider shape as
// the browser suite (e2e/src/harness/browser.ts), except that the authorization step follows the redirect with
// fetch, because the conformance suite's authorization server approves without a login page.
// Usage (by the conformance CLI): node e2e/src/conformance/auth-client.ts <server-url>
// The CLI says which protocol version the scenario speaks (MCP_CONFORMANCE_PROTOCOL_VERSION) and hands pre-registered
// credentials over in MCP_CONFORMANCE_CONTEXT; both are parsed once here, as the services parse their config.
import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { z } from 'zod';

const env = z
  .object({
    MCP_CONFORMANCE_PROTOCOL_VERSION: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    MCP_CONFORMANCE_CONTEXT: z
      .string()
      .transform((text) => JSON.parse(text) as unknown)
      .pipe(z.object({ client_id: z.string().optional(), client_secret: z.string().optional() }).loose())
      .optional(),
  })
  .parse(process.env);
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

const serverUrl = new URL(process.argv[2] ?? '');
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
