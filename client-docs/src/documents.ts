// The Client ID Metadata Documents this host serves (draft-ietf-oauth-client-id-metadata-document; MCP 2026-07-28
// authorization, "Client ID Metadata Documents"). A document's URL is its client_id, and the document must say so.
// Two are what real clients would publish; the "refused-" ones each break one rule, so tests can show Keycloak
// refusing them, and "no-refresh-token" is valid but met a Keycloak bug (keycloak/README.md, "CIMD").

/**
 * The scopes a client declares: the four MCP scopes it may ever request, and offline_access, which SDK clients add to
 * every authorization request when they use refresh tokens (Keycloak makes exactly these its optional scopes).
 */
const MCP_SCOPES = 'mcp:tools portfolio:read trade:read trade:write offline_access';

/** Loopback redirect URIs are registered without a port: Keycloak accepts any port for them (RFC 8252 section 7.3). */
const base = (name: string, redirectPath: string) => ({
  client_name: name,
  redirect_uris: [`http://127.0.0.1${redirectPath}`],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  application_type: 'native',
  scope: MCP_SCOPES,
});

export interface ClientDocument {
  /** One line: who publishes it, or which rule it breaks. */
  purpose: string;
  /** Keycloak's refusal text, for the documents it must refuse. */
  refusedWith?: string;
  build(clientId: string): Record<string, unknown>;
}

export const DOCUMENTS: Readonly<Record<string, ClientDocument>> = Object.freeze({
  'sdk-reference': {
    purpose: "the sandbox's reference client (MCP TypeScript SDK v2, OAuthClientProvider.clientMetadataUrl)",
    build: (clientId) => ({ client_id: clientId, ...base('Sandbox reference client (SDK v2)', '/callback') }),
  },
  inspector: {
    purpose: 'MCP Inspector CLI (--client-metadata-url), whose loopback callback is /oauth/callback',
    build: (clientId) => ({ client_id: clientId, ...base('MCP Inspector', '/oauth/callback') }),
  },
  'refused-client-id-mismatch': {
    purpose: 'its client_id is not its own URL',
    refusedWith: 'client_id property does not exactly match client_id parameter',
    build: (clientId) => ({ ...base('Wrong client_id', '/callback'), client_id: `${clientId}-elsewhere` }),
  },
  'refused-shared-secret': {
    purpose: 'it asks for a shared-secret token endpoint method (client_secret_post)',
    refusedWith: 'token_endpoint_auth_method property in client metadata is not-allowed authentication method',
    build: (clientId) => ({
      client_id: clientId,
      ...base('Shared secret', '/callback'),
      token_endpoint_auth_method: 'client_secret_post',
    }),
  },
  'refused-no-client-name': {
    purpose: 'it leaves out client_name, which the realm requires (what the consent page would show)',
    refusedWith: 'it does not include all required properties',
    build: (clientId) => {
      const { client_name: _omitted, ...rest } = base('', '/callback');
      return { client_id: clientId, ...rest };
    },
  },
  'refused-ciba-grant': {
    purpose: "it declares the CIBA grant, which would let it ask any user's device for an approval token",
    refusedWith: 'a CIMD client may not have the grant urn:openid:params:grant-type:ciba',
    build: (clientId) => ({
      client_id: clientId,
      ...base('CIBA grant', '/callback'),
      grant_types: ['authorization_code', 'refresh_token', 'urn:openid:params:grant-type:ciba'],
      backchannel_token_delivery_mode: 'poll',
    }),
  },
  'refused-client-credentials': {
    purpose: 'it declares client_credentials: tokens that stand for no user',
    refusedWith: 'a CIMD client may not have the grant client_credentials',
    build: (clientId) => ({
      client_id: clientId,
      ...base('Client credentials', '/callback'),
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    }),
  },
  'refused-approval-scope': {
    purpose: 'it declares trade:approved, the scope only a CIBA approval may yield, beside the MCP scopes',
    refusedWith: 'a CIMD client may not have the scope trade:approved',
    build: (clientId) => ({
      client_id: clientId,
      ...base('Approval scope', '/callback'),
      scope: `${MCP_SCOPES} trade:approved`,
    }),
  },
  'no-refresh-token': {
    purpose:
      'a valid client without the refresh_token grant: Keycloak 26.7.3 answered its token request (with resource) ' +
      'with a 500; the sandbox answers 400 invalid_request instead (keycloak/README.md, "Upstream Keycloak bugs seen")',
    build: (clientId) => ({
      client_id: clientId,
      ...base('No refresh token', '/callback'),
      grant_types: ['authorization_code'],
    }),
  },
  'refused-foreign-redirect': {
    purpose: 'its redirect URI is on a host the policy does not trust',
    refusedWith: 'Invalid Client ID: domain not allowed',
    build: (clientId) => ({
      client_id: clientId,
      ...base('Foreign redirect', '/callback'),
      redirect_uris: ['https://attacker.example/callback'],
    }),
  },
});

/** The URL (= client_id) of a document on a host whose public origin is `publicUrl`. */
export function documentUrl(publicUrl: string, name: string): string {
  return `${publicUrl.replace(/\/$/, '')}/clients/${name}.json`;
}

/**
 * Where this host also serves each document, outside `/clients/`, the one path the realm trusts (its `client_id` is
 * then that URL): Keycloak must treat it as an unknown client, never fetch it.
 */
export const OUTSIDE_PREFIX = '/outside-trusted-path';

/** The URL (= client_id) of a document served outside the trusted path prefix. */
export function outsidePrefixUrl(publicUrl: string, name: string): string {
  return `${publicUrl.replace(/\/$/, '')}${OUTSIDE_PREFIX}/${name}.json`;
}
