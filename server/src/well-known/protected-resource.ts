// RFC 9728 protected-resource metadata, served at the path-suffixed URL for /mcp and at the root, with CORS,
// plus the authorization-server metadata at this origin for clients that predate RFC 9728.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../config.ts';
import type { KeycloakClient } from '../exchange/keycloak.ts';
import type { Logger } from '../log.ts';
import { SCOPES_SUPPORTED } from '../auth/scopes.ts';
import { DPOP_ALGORITHMS } from '../auth/dpop.ts';

export function protectedResourceMetadata(config: Config): Record<string, unknown> {
  return {
    resource: config.resourceUrl.href,
    authorization_servers: [config.ISSUER_URL],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ['header'],
    // RFC 9449 §5.1 (DPoP): the proof algorithms this server verifies, and whether bearer tokens are refused.
    ...(config.DPOP === 'off'
      ? {}
      : {
          dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
          dpop_bound_access_tokens_required: config.DPOP === 'required',
        }),
    resource_name: 'MCP Keycloak sandbox (fictional stock tools)',
    resource_documentation: 'https://github.com/modelcontextprotocol/modelcontextprotocol',
  };
}

export function wellKnownRoutes(config: Config, keycloak: KeycloakClient, logger: Logger): Hono {
  const app = new Hono();
  app.use(
    '/.well-known/*',
    cors({ origin: '*', allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['mcp-protocol-version'], maxAge: 600 }),
  );
  const document = protectedResourceMetadata(config);
  const prm = () =>
    new Response(JSON.stringify(document), {
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    });
  app.get(config.resourceMetadataUrl.pathname, prm);
  app.get('/.well-known/oauth-protected-resource', prm);

  const asMetadata = (kind: 'oauth-authorization-server' | 'openid-configuration') => async () => {
    try {
      return Response.json(await keycloak.metadata(kind), { headers: { 'cache-control': 'public, max-age=300' } });
    } catch (error) {
      logger.log('warn', 'authorization server metadata unavailable', { kind, message: (error as Error).message });
      return Response.json(
        {
          error: 'temporarily_unavailable',
          error_description: `Keycloak metadata is unreachable; fetch it from ${config.ISSUER_URL} directly or retry.`,
        },
        { status: 503, headers: { 'retry-after': '5' } },
      );
    }
  };
  app.get('/.well-known/oauth-authorization-server', asMetadata('oauth-authorization-server'));
  app.get('/.well-known/openid-configuration', asMetadata('openid-configuration'));
  return app;
}
