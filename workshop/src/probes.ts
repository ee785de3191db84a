// What a user would run to see each lab's symptom: a real MCP client call, a token exchange, a registration. Each
// returns what happened, in words, and never a token.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { MCP_SERVER_CLIENT, STOCK_API_AUDIENCE } from '@sandbox/stack';
import { WorkshopError, type Keycloak } from './keycloak.ts';

export interface LabContext {
  kc: Keycloak;
  /** The MCP server's resource URL (also its client ID in the realm). */
  mcpUrl: string;
}

export interface Observation {
  /** Whether the lab's symptom showed. */
  broken: boolean;
  observed: string;
}

/** tools/call over HTTP with a bearer token, as a real MCP client (SDK v2, 2026-07-28) makes it. */
export async function callTool(
  ctx: LabContext,
  token: string,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ status?: number; isError: boolean; text: string }> {
  let status: number | undefined;
  let challenge = '';
  const transport = new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      status = response.status;
      challenge = response.headers.get('www-authenticate') ?? '';
      return response;
    },
  });
  const client = new Client({ name: 'workshop-probe', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  } as never);
  try {
    await client.connect(transport);
    const result = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content?: Array<{ text?: string }>;
    };
    return { status, isError: result.isError === true, text: result.content?.[0]?.text ?? '' };
  } catch (error) {
    const why = /error_description="([^"]*)"/.exec(challenge)?.[1];
    return { status, isError: true, text: why ? `HTTP ${status}: ${why}` : (error as Error).message };
  } finally {
    await client.close().catch(() => {});
  }
}

export async function toolProbe(ctx: LabContext, user: 'alice' | 'bob', scope: string): Promise<Observation> {
  const { accessToken } = await ctx.kc.userToken(user, scope);
  const result = await callTool(ctx, accessToken, 'get_portfolio');
  return {
    broken: result.isError,
    observed: `${user} calls get_portfolio with a new token: ${!result.isError ? 'ok' : result.status === 200 ? 'tool error' : 'refused'}${result.status ? ` (HTTP ${result.status})` : ''} — ${result.text.split('\n')[0]}`,
  };
}

/** The MCP server's own token exchange, done by hand: a user token without trade:write, asking for trade:write. */
export async function upscopeProbe(ctx: LabContext): Promise<Observation> {
  const { accessToken } = await ctx.kc.userToken('alice', 'mcp:tools trade:read');
  const config = await oidc.discovery(
    new URL(ctx.kc.issuer),
    ctx.mcpUrl,
    MCP_SERVER_CLIENT.secret,
    oidc.ClientSecretBasic(MCP_SERVER_CLIENT.secret),
    { execute: [oidc.allowInsecureRequests] },
  );
  try {
    const response = await oidc.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
      subject_token: accessToken,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: STOCK_API_AUDIENCE,
      scope: 'trade:write',
    });
    const granted = String(decodeJwt(response.access_token).scope ?? '');
    return {
      broken: granted.split(' ').includes('trade:write'),
      observed: `exchanging a trade:read token for trade:write: Keycloak issued a token with scope "${granted}"`,
    };
  } catch (error) {
    const e = error as oidc.ResponseBodyError;
    if (!(error instanceof oidc.ResponseBodyError) || ['invalid_client', 'unauthorized_client'].includes(e.error))
      throw new WorkshopError(
        `could not test: the exchange failed for another reason than up-scoping (${e.error ?? e.message}: ${e.error_description ?? ''}); was the stack started with another MCP server client secret?`,
      );
    return {
      broken: false,
      observed: `exchanging a trade:read token for trade:write: Keycloak refused (${e.error}: ${e.error_description ?? ''})`,
    };
  }
}

/** An anonymous registration asking for the scope that puts the stock API into the user's token audience. */
export async function registrationProbe(ctx: LabContext): Promise<Observation> {
  const register = async (scope: string) => {
    const response = await fetch(`${ctx.kc.issuer}/clients-registrations/openid-connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: `workshop probe: asks for ${scope}`,
        redirect_uris: ['http://127.0.0.1:9/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        scope,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as { client_id?: string; error_description?: string };
    if (body.client_id) {
      const [created] = await ctx.kc.admin<Array<{ id: string }>>(`/clients?clientId=${body.client_id}`);
      if (created) await ctx.kc.admin(`/clients/${created.id}`, { method: 'DELETE' });
    }
    return { response, body };
  };
  // A control first: if an ordinary registration is refused too, the refusal below would prove nothing.
  const control = await register('mcp:tools');
  if (control.response.status !== 201)
    throw new WorkshopError(
      `could not test: Keycloak refuses even an ordinary anonymous registration from this machine (HTTP ${control.response.status}); make doctor explains (dcr-from-here).`,
    );
  const { response, body } = await register('mcp:tools stock-api-audience');
  return {
    broken: response.status === 201,
    observed: `anonymous registration asking for scope stock-api-audience: HTTP ${response.status}${body.error_description ? ` (${body.error_description})` : ''}`,
  };
}

export async function bobScopeProbe(ctx: LabContext): Promise<Observation> {
  const { accessToken } = await ctx.kc.userToken('bob', 'mcp:tools trade:read trade:write');
  const scope = String(decodeJwt(accessToken).scope ?? '');
  return {
    broken: scope.split(' ').includes('trade:write'),
    observed: `bob (no trader role) asks for trade:write and gets a token with scope "${scope}"`,
  };
}

export async function lifespanProbe(ctx: LabContext): Promise<Observation> {
  const { accessToken } = await ctx.kc.userToken('alice', 'mcp:tools');
  const { exp = 0, iat = 0 } = decodeJwt(accessToken);
  const seconds = exp - iat;
  return {
    broken: seconds > 900,
    observed: `a new access token lives ${seconds} s (${(seconds / 3600).toFixed(1)} h)`,
  };
}

/** Refreshes twice with the same refresh token, a second apart (Keycloak compares whole seconds). */
export async function refreshReuseProbe(ctx: LabContext): Promise<Observation> {
  const first = await ctx.kc.userToken('alice', 'mcp:tools');
  if (!first.refreshToken) return { broken: false, observed: 'no refresh token was issued' };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 1100));
  await pause();
  await ctx.kc.refresh(first.refreshToken);
  await pause();
  try {
    await ctx.kc.refresh(first.refreshToken);
    return { broken: true, observed: 'a refresh token used once already was accepted again (no rotation)' };
  } catch (error) {
    const e = error as oidc.ResponseBodyError;
    return { broken: false, observed: `reusing a refresh token: Keycloak refused (${e.error ?? e.message})` };
  }
}
