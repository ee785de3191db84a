// The request path, in order: well-known metadata → Host/Origin guard → bearer auth → tool scopes → MCP (SDK)
// → tool → token exchange → stock API.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createApprover } from './approval/ciba.ts';
import { hostHeaderValidationResponse, originValidationResponse } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { readBodyLimited, BodyTooLargeError } from './body.ts';
import { bearerAuth, type AuthVariables } from './auth/middleware.ts';
import type { Principal } from './auth/verify.ts';
import { authErrorResponse, type ChallengeOptions } from './auth/challenge.ts';
import {
  DEFAULT_CHALLENGE_SCOPES,
  machineRefusalText,
  missingScopes,
  stepUpScopes,
  unobtainableScopes,
} from './auth/scopes.ts';
import type { Config } from './config.ts';
import { createStockApi } from './downstream/stock-api.ts';
import { AuthError } from './errors.ts';
import { createMemoryCache, createNoCache, createRedisCache, type TokenCache } from './exchange/cache.ts';
import { createExchanger, type Exchanger } from './exchange/exchanger.ts';
import { createMemoryExplorerStore, createRedisExplorerStore, type ExplorerStore } from './explorer/store.ts';
import { createCallRecorder } from './explorer/recorder.ts';
import { explorerRoutes } from './explorer/routes.ts';
import { createKeycloakClient, type KeycloakClient } from './exchange/keycloak.ts';
import { createLogger, type Logger } from './log.ts';
import { subkey } from './keys.ts';
import { memoryReplayStore, redisReplayStore } from './auth/dpop.ts';
import { connectRedis } from './redis.ts';
import { createMcp } from './mcp/handler.ts';
import { TOOLS_BY_NAME } from './mcp/tools.ts';
import { createMetrics } from './metrics.ts';
import { wellKnownRoutes } from './well-known/protected-resource.ts';

export interface AppDeps {
  config: Config;
  logger?: Logger;
  keycloak?: KeycloakClient;
  cache?: TokenCache;
  now?: () => Date;
  /** Answer plain tools/call requests without the SDK's per-request server (default on; tests compare both paths). */
  fastPath?: boolean;
  /** Replaces JWT verification (benchmarks measure its cost with one that skips it). Never set by main.ts. */
  tokenVerifier?: (token: string) => Promise<Principal>;
  /** Replaces token exchange (check-server's deliberately broken test fixture only). Never set by main.ts. */
  exchanger?: Exchanger;
  /** The explorer's store (tests); default: Redis when REDIS_URL is set, else memory. */
  explorerStore?: ExplorerStore;
}

/** Errors Node raises when the client goes away mid-request (the answer then reaches nobody). */
export function isClientAbort(error: unknown): boolean {
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  return (
    code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || name === 'AbortError' || message === 'aborted'
  );
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

/**
 * The whole MCP server as a Hono app, plus its counters and cache. main.ts serves it; tests call `app.request()`.
 *
 *   const { app, close } = createApp({ config: loadConfig(process.env) });
 *   serve({ fetch: app.fetch, port: config.PORT });
 */
export function createApp(deps: AppDeps) {
  const { config } = deps;
  const fastPath = deps.fastPath ?? true;
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  const keycloak = deps.keycloak ?? createKeycloakClient(config);
  const onRedisError = (error: Error) => {
    metrics.redisErrors += 1;
    logger.log('warn', 'redis error; exchanging without cache until it is back', { message: error.message });
  };
  const cache =
    deps.cache ??
    (config.cacheMode === 'redis'
      ? createRedisCache(config.REDIS_URL as string, config.REDIS_KEY_PREFIX, onRedisError)
      : config.cacheMode === 'off'
        ? createNoCache()
        : createMemoryCache());
  const exchanger =
    deps.exchanger ??
    createExchanger({
      keycloak,
      cache,
      metrics,
      logger,
      clientId: config.CLIENT_ID,
      issuer: config.ISSUER_URL,
      cacheSkewSeconds: config.EXCHANGE_CACHE_SKEW_S,
    });
  const stock = createStockApi({
    baseUrl: config.STOCK_API_URL,
    audience: config.STOCK_API_AUDIENCE,
    timeoutMs: config.HTTP_TIMEOUT_MS,
    exchanger,
    metrics,
  });
  // The explorer's sessions and calls: in Redis when the server has one (every replica sees them), else in memory.
  const explorerStore =
    config.EXPLORER !== 'on'
      ? undefined
      : config.REDIS_URL && deps.explorerStore === undefined
        ? createRedisExplorerStore(config.REDIS_URL, config.REDIS_KEY_PREFIX, (error) =>
            logger.log(
              'warn',
              'explorer: redis error; calls are not recorded and sessions not found until it is back',
              {
                message: error.message,
              },
            ),
          )
        : (deps.explorerStore ?? createMemoryExplorerStore());
  const recorder = explorerStore
    ? createCallRecorder({
        store: explorerStore.calls,
        tokenEndpoint: async () => (await keycloak.configuration()).serverMetadata().token_endpoint ?? '',
        clientId: config.CLIENT_ID,
        clientSecret: config.CLIENT_SECRET,
        audience: config.STOCK_API_AUDIENCE,
      })
    : undefined;
  const approver = createApprover({ keycloak, timeoutMs: config.APPROVAL_TIMEOUT_S * 1000, logger });
  const mcp = createMcp({
    stock,
    logger,
    metrics,
    now: deps.now,
    approver,
    ...(recorder ? { recorder } : {}),
    ...(config.APPROVAL_DEVICE_URL
      ? {
          approvalDeviceUrl: config.APPROVAL_DEVICE_URL,
          // The requestState HMAC key: a subkey of STATE_KEY, which every replica of this server is given.
          requestStateKey: subkey(config.stateKey, 'mcp-request-state'),
        }
      : {}),
  });
  const challenge: ChallengeOptions = {
    resourceMetadataUrl: config.resourceMetadataUrl.href,
    defaultScopes: DEFAULT_CHALLENGE_SCOPES,
  };

  const app = new Hono<{ Variables: AuthVariables & { body?: string } }>();

  app.use('*', async function requestContext(c, next) {
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 64) ?? randomUUID());
    await next();
  });

  // DNS-rebinding protection: Host must name this server (every route).
  app.use('*', async function hostGuard(c, next) {
    const rejected = hostHeaderValidationResponse(c.req.raw, config.ALLOWED_HOSTS);
    if (rejected) {
      logger.log('warn', 'host rejected', { requestId: c.get('requestId'), host: c.req.header('host') });
      return rejected;
    }
    await next();
  });

  app.route('/', wellKnownRoutes(config, keycloak, logger));

  if (explorerStore)
    app.route(
      '/explorer',
      explorerRoutes({
        store: explorerStore.calls,
        sessions: explorerStore.sessions,
        keycloak,
        logger,
        clientId: config.EXPLORER_CLIENT_ID,
        redirectUri: new URL('/explorer/callback', config.resourceUrl).href,
        cookieKey: subkey(config.stateKey, 'explorer-session'),
      }),
    );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const kc = await keycloak.probe();
    const redis = cache.status();
    const status = !kc.ok ? 'unavailable' : redis.ok ? 'ready' : 'degraded';
    return c.json({ status, checks: { keycloak: kc, cache: { kind: cache.kind, ...redis } } }, kc.ok ? 200 : 503);
  });
  // Counters of this replica only: `replica` says which one answered (behind a load balancer, each is scraped alone).
  const replica = { host: hostname(), pid: process.pid };
  app.get('/metrics', (c) =>
    c.json({ ...metrics, cache: cache.kind, cacheSkewSeconds: config.EXCHANGE_CACHE_SKEW_S, replica }),
  );

  const mcpPath = config.resourceUrl.pathname;
  // Browser MCP clients (a page on a loopback port) call /mcp across origins: the preflight is answered here, before
  // any token is needed, and only for origins the Origin guard below lets through; WWW-Authenticate is exposed so the
  // page can read a 401/403 challenge and start (or step up) its sign-in.
  app.use(
    mcpPath,
    cors({
      origin: (origin) =>
        originValidationResponse(new Request(config.resourceUrl, { headers: { origin } }), config.ALLOWED_ORIGINS)
          ? null
          : origin,
      allowMethods: ['POST', 'GET', 'DELETE', 'OPTIONS'],
      allowHeaders: [
        'authorization',
        'content-type',
        'accept',
        'mcp-protocol-version',
        'mcp-method',
        'mcp-name',
        'last-event-id',
      ],
      exposeHeaders: ['www-authenticate', 'mcp-protocol-version'],
      maxAge: 600,
    }),
  );
  app.use(mcpPath, async function originGuard(c, next) {
    const rejected = originValidationResponse(c.req.raw, config.ALLOWED_ORIGINS);
    if (rejected) {
      logger.log('warn', 'origin rejected', { requestId: c.get('requestId'), origin: c.req.header('origin') });
      return rejected;
    }
    await next();
  });
  // The body is read (bounded) before any token work: an oversize body is a 413 whoever sends it.
  app.use(mcpPath, async function bodyGuard(c, next) {
    if (c.req.method === 'POST') {
      try {
        c.set('body', await readBodyLimited(c.req.raw, c.env, config.MAX_BODY_BYTES));
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // The rest of the body is never read: close the connection after answering, so neither the unread bytes
          // nor a half-drained socket spill into the client's next request on it.
          const response = jsonRpcError(413, -32600, `Request body larger than ${config.MAX_BODY_BYTES} bytes.`);
          response.headers.set('connection', 'close');
          return response;
        }
        throw error;
      }
    }
    await next();
  });
  if (deps.tokenVerifier)
    logger.log('warn', 'a custom token verifier is in use (benchmarks and tests only; main.ts never sets one)');
  // DPoP proofs' jtis: in Redis when the server has one (a replay is refused on whichever replica it lands).
  const dpopRedis =
    config.DPOP !== 'off' && config.REDIS_URL
      ? connectRedis(config.REDIS_URL, (error) =>
          logger.log('warn', 'redis error; DPoP requests get 503 until it is back', { message: error.message }),
        )
      : undefined;
  const dpop =
    config.DPOP === 'off'
      ? undefined
      : {
          options: {
            replay: dpopRedis ? redisReplayStore(dpopRedis.redis, config.REDIS_KEY_PREFIX) : memoryReplayStore(),
            maxAgeSeconds: config.DPOP_MAX_AGE_S,
            ...(config.DPOP_NONCE === 'on'
              ? { nonceKey: Buffer.from(subkey(config.stateKey, 'dpop-nonce'), 'hex') }
              : {}),
          },
          publicOrigin: config.resourceUrl.origin,
          required: config.DPOP === 'required',
        };
  app.use(
    mcpPath,
    bearerAuth({
      verify: {
        keys: keycloak.keys,
        issuer: config.ISSUER_URL,
        resource: config.resourceUrl.href,
        maxTokenBytes: config.MAX_TOKEN_BYTES,
        machineClients: config.MACHINE_CLIENTS,
      },
      verifier: deps.tokenVerifier,
      challenge,
      logger,
      ...(dpop ? { dpop } : {}),
    }),
  );

  app.all(mcpPath, async function mcpEndpoint(c) {
    const principal = c.get('principal');
    const auth = { principal, token: c.get('token'), requestId: c.get('requestId') };
    if (c.req.method !== 'POST') return mcp.fetch(c.req.raw, auth);
    // One parse for the gate and the SDK: the SDK gets this value (parsedBody), never the bytes to parse again.
    // Unparseable text goes to the SDK as text, which answers it with its own -32700.
    const text = c.get('body') ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // Tool scopes are checked here, before the SDK runs, so a missing scope is an HTTP 403 challenge the client
    // can step up from (naming every scope the call needs), not a tool error.
    // A 2025-era JSON-RPC batch (array) is checked message by message, or it would bypass the gate.
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as Array<
      { method?: unknown; params?: { name?: unknown } } | null | undefined
    >;
    for (const message of messages) {
      if (message?.method !== 'tools/call' || typeof message.params?.name !== 'string') continue;
      const tool = TOOLS_BY_NAME.get(message.params.name);
      // A machine calling a user's tool: no challenge can cure it; the tool answers with an error (handler.ts runTool).
      if (tool && machineRefusalText(tool, principal)) continue;
      const missing = tool ? missingScopes(principal.scopes, tool.requiredScopes) : [];
      // A scope the user's roles can never earn is not worth a challenge (the client would send the user back to
      // Keycloak for nothing, and loop): the tool itself answers with an error that says so (handler.ts runTool).
      const blocked = unobtainableScopes(missing, principal.roles);
      if (tool && blocked.length && !Array.isArray(parsed)) {
        logger.log('info', 'tool refused: missing role', {
          requestId: auth.requestId,
          sub: principal.sub,
          tool: tool.name,
          roles: blocked.map((b) => b.role),
        });
        continue;
      }
      if (tool && missing.length) {
        const error = new AuthError(
          'insufficient_scope',
          `Tool ${tool.name} needs scope ${missing.join(' ')}; re-authorize with the scopes in this challenge.`,
          { requiredScopes: stepUpScopes(principal.scopes, tool.requiredScopes) },
        );
        logger.log('info', 'insufficient scope', {
          requestId: auth.requestId,
          sub: principal.sub,
          tool: tool.name,
          missing,
        });
        return authErrorResponse(error, challenge);
      }
    }
    if (fastPath) {
      const fast = await mcp.tryFast(c.req.raw, parsed, auth);
      if (fast) return fast;
    }
    const forwarded = new Request(c.req.raw.url, { method: 'POST', headers: c.req.raw.headers, body: text });
    return mcp.fetch(forwarded, auth, parsed);
  });

  app.notFound((c) =>
    c.json(
      {
        error: 'not_found',
        error_description: `No route ${c.req.method} ${c.req.path}; the MCP endpoint is ${mcpPath}.`,
      },
      404,
    ),
  );
  app.onError((error, c) => {
    // A client that hangs up mid-request (the body read fails with "aborted") is not a fault of ours: info level.
    if (isClientAbort(error)) {
      logger.log('info', 'client aborted the request', {
        requestId: c.get('requestId'),
        path: c.req.path,
        message: error.message,
      });
      return c.json(
        { error: 'client_aborted', error_description: 'The client closed the request before it was complete.' },
        400,
      );
    }
    logger.log('error', 'unhandled error', {
      requestId: c.get('requestId'),
      path: c.req.path,
      error: error.name,
      message: error.message,
    });
    return c.json(
      {
        error: 'server_error',
        error_description: 'Internal error; see the server log for the request id.',
        requestId: c.get('requestId'),
      },
      500,
    );
  });

  return {
    app,
    metrics,
    cache,
    keycloak,
    /** The explorer's recorded calls (undefined with EXPLORER=off). */
    calls: explorerStore?.calls,
    async close() {
      await cache.close();
      await explorerStore?.close();
      dpopRedis?.redis.disconnect();
    },
  };
}
