// Test fixtures: local signing keys and Keycloak-shaped tokens, a fake Keycloak (local JWKS + a real openid-client
// Configuration pointing at a fake token endpoint on 127.0.0.1), a fake stock API, a log capture and a network
// guard that lets only loopback through. Nothing here talks to Keycloak or leaves 127.0.0.1.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mock } from 'node:test';
import { Redis } from 'ioredis';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { createMemoryCache, type TokenCache } from './exchange/cache.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './exchange/exchanger.ts';
import type { KeycloakClient } from './exchange/keycloak.ts';
import { createLogger, type Logger } from './log.ts';

export const ISSUER = 'http://localhost:8080/realms/sandbox';
export const RESOURCE = 'http://localhost:3000/mcp';
export const CLIENT_ID = RESOURCE; // the realm names the MCP server's client after its resource URL
export const CLIENT_SECRET = 'test-client-secret';
export const KID = 'test-rs256';
export const ALICE = '5f0c3a52-8a3e-4c7e-9a53-1b1f6f0b2d11';
export const USER_SCOPE = 'mcp:tools portfolio:read trade:read';
export const TRADER_SCOPE = `${USER_SCOPE} trade:write`;
/** The clock the MCP tools see (get_datetime). Token verification uses the real clock, so tokens are minted from it. */
export const NOW = new Date('2026-01-15T12:00:00Z');

/** Every token a fixture minted or handed out in this process, for the "no token in the logs" checks. */
export const issuedTokens = new Set<string>();

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface Signer {
  kid: string;
  keys: JWTVerifyGetKey;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  sign(claims?: JWTPayload, header?: Record<string, unknown>): Promise<string>;
}

/** A fresh RSA key pair; `keys` resolves only its public key (under `kid`). */
export async function createSigner(kid = KID): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    publicKey,
    privateKey,
    keys: createLocalJWKSet({ keys: [jwk] }),
    async sign(claims = userClaims(), header = {}) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...header })
        .sign(privateKey);
      issuedTokens.add(token);
      return token;
    },
  };
}

/** Claims of an access token Keycloak issues to mcp-cli for this MCP server. */
export function userClaims(overrides: JWTPayload = {}): JWTPayload {
  const iat = nowSeconds();
  return {
    iss: ISSUER,
    aud: [RESOURCE, CLIENT_ID],
    azp: 'mcp-cli',
    typ: 'Bearer',
    sub: ALICE,
    preferred_username: 'alice',
    scope: USER_SCOPE,
    sid: randomUUID(),
    realm_access: { roles: ['viewer', 'trader', 'offline_access'] },
    jti: randomUUID(),
    iat,
    exp: iat + 300,
    ...overrides,
  };
}

/** Drops undefined-valued claims, so `withoutClaim('sub')` removes it. */
export function withoutClaim(name: string, overrides: JWTPayload = {}): JWTPayload {
  const claims: JWTPayload = userClaims(overrides);
  delete claims[name];
  return claims;
}

/** Any fetch to a host other than loopback fails loudly (unit tests never leave 127.0.0.1). */
export function blockNetwork(): void {
  const realFetch = globalThis.fetch;
  mock.method(globalThis, 'fetch', async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!['127.0.0.1', '[::1]'].includes(url.hostname))
      throw new TypeError(`fetch failed: network is blocked in unit tests (${url.origin})`);
    return realFetch(input, init);
  });
}

export interface LogCapture {
  logger: Logger;
  lines: string[];
}

/** A debug-level logger that keeps every line it writes. */
export function captureLogs(lines: string[] = []): LogCapture {
  return {
    logger: createLogger('debug', (line) => {
      lines.push(line);
    }),
    lines,
  };
}

/** Lines that contain any token a fixture issued (should always be empty). */
export function linesWithTokens(lines: readonly string[]): string[] {
  return lines.filter((line) => [...issuedTokens].some((token) => line.includes(token)));
}

// ---- tiny HTTP fakes on 127.0.0.1 ----------------------------------------------------------------------------

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}
export interface FakeReply {
  status?: number;
  json?: unknown;
  delayMs?: number;
  destroy?: boolean;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Replace to change what the server answers. */
  reply: (request: RecordedRequest) => FakeReply | Promise<FakeReply>;
  close(): Promise<void>;
}

export async function startFakeServer(reply: FakeServer['reply']): Promise<FakeServer> {
  const fake = { requests: [] as RecordedRequest[], reply } as FakeServer;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      fake.requests.push(recorded);
      void Promise.resolve(fake.reply(recorded)).then(async (answer) => {
        if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
        if (answer.destroy) {
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

/** A port on 127.0.0.1 with nothing listening on it (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Keycloak-shaped exchange answer: a stock-api token with exactly the requested scope. */
export async function exchangeAnswer(signer: Signer, form: URLSearchParams, expiresIn = 300): Promise<FakeReply> {
  const scope = form.get('scope') ?? '';
  const accessToken = await signer.sign(
    userClaims({ aud: form.get('audience') ?? 'stock-api', azp: CLIENT_ID, scope, exp: nowSeconds() + expiresIn }),
  );
  return {
    json: {
      access_token: accessToken,
      expires_in: expiresIn,
      token_type: 'Bearer',
      scope,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      'not-before-policy': 0,
    },
  };
}

/** A fake realm token endpoint that performs the exchange like Keycloak does (no checks; tests assert the form). */
export function startTokenEndpoint(signer: Signer, expiresIn = 300): Promise<FakeServer> {
  return startFakeServer((request) => exchangeAnswer(signer, new URLSearchParams(request.body), expiresIn));
}

/** A real openid-client Configuration for the fake token endpoint, with client_secret_basic like production. */
export function oidcConfiguration(tokenEndpointUrl: string): oidc.Configuration {
  const config = new oidc.Configuration(
    { issuer: ISSUER, token_endpoint: `${tokenEndpointUrl}/realms/sandbox/protocol/openid-connect/token` },
    CLIENT_ID,
    CLIENT_SECRET,
    oidc.ClientSecretBasic(CLIENT_SECRET),
  );
  oidc.allowInsecureRequests(config);
  return config;
}

/** A KeycloakClient with local keys and a Configuration for a fake token endpoint; no discovery, no network. */
export function fakeKeycloak(keys: JWTVerifyGetKey, tokenEndpointUrl: string): KeycloakClient {
  const configuration = oidcConfiguration(tokenEndpointUrl);
  return {
    keys,
    configuration: async () => configuration,
    metadata: async (kind) => ({ issuer: ISSUER, kind, token_endpoint: `${ISSUER}/protocol/openid-connect/token` }),
    probe: async () => ({ ok: true, detail: 'fake keycloak' }),
  };
}

/** The fake stock API: answers the tool paths and records the Authorization header each call carried. */
export function startStockApi(): Promise<FakeServer> {
  return startFakeServer((request) => {
    const path = request.path.split('?')[0] ?? '';
    if (path === '/portfolio')
      return {
        json: {
          owner: { username: 'alice' },
          holdings: [{ symbol: 'ACME', quantity: 10, marketValue: 1234.5 }],
          cash: 100,
          totalValue: 1334.5,
        },
      };
    if (path.startsWith('/stocks/'))
      return { json: { symbol: path.slice(8), name: 'Acme Corp', price: 123.45, currency: 'USD', changePercent: 1.5 } };
    if (path === '/stocks')
      return { json: { results: [{ symbol: 'ACME', name: 'Acme Corp', price: 123.45, currency: 'USD' }] } };
    if (path === '/orders' && request.method === 'POST') {
      const order = JSON.parse(request.body) as { symbol: string; side: string; quantity: number };
      return { status: 201, json: { id: 'ord-1', status: 'filled', ...order } };
    }
    return { status: 404, json: { error: { code: 'not_found', message: `no ${path}` } } };
  });
}

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({ CLIENT_ID, CLIENT_SECRET, LOG_LEVEL: 'debug', ...env });
}

export interface TestApp {
  app: ReturnType<typeof createApp>['app'];
  metrics: ReturnType<typeof createApp>['metrics'];
  calls: ReturnType<typeof createApp>['calls'];
  config: Config;
  signer: Signer;
  tokenEndpoint: FakeServer;
  stockApi: FakeServer;
  lines: string[];
  close(): Promise<void>;
}

/** The whole app, in-process, with fakes for Keycloak and the stock API on 127.0.0.1 and a frozen tool clock. */
export async function createTestApp(
  options: {
    signer?: Signer;
    env?: Record<string, string>;
    cache?: TokenCache;
    lines?: string[];
    fastPath?: boolean;
  } = {},
): Promise<TestApp> {
  const signer = options.signer ?? (await createSigner());
  const tokenEndpoint = await startTokenEndpoint(signer);
  const stockApi = await startStockApi();
  const config = testConfig({ STOCK_API_URL: stockApi.url, ...options.env });
  const { logger, lines } = captureLogs(options.lines);
  const created = createApp({
    config,
    keycloak: fakeKeycloak(signer.keys, tokenEndpoint.url),
    cache: options.cache ?? createMemoryCache(),
    logger,
    now: () => NOW,
    fastPath: options.fastPath,
  });
  return {
    app: created.app,
    metrics: created.metrics,
    calls: created.calls,
    config,
    signer,
    tokenEndpoint,
    stockApi,
    lines,
    async close() {
      await created.close();
      await tokenEndpoint.close();
      await stockApi.close();
    },
  };
}

// ---- MCP requests --------------------------------------------------------------------------------------------

export const LEGACY_VERSION = '2025-11-25';
export const MODERN_VERSION = '2026-07-28';

export interface McpRequestOptions {
  token?: string | null;
  headers?: Record<string, string>;
  url?: string;
}

/** Headers every request to the MCP endpoint carries: Host (DNS-rebinding check) and, unless null, the bearer. */
export function mcpHeaders(options: McpRequestOptions = {}): Record<string, string> {
  return {
    host: 'localhost:3000',
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
}

let nextId = 1;

/** A JSON-RPC request as a 2025-11-25 client sends it (no initialize needed: the server is stateless). */
export function legacyRequest(
  method: string,
  params?: Record<string, unknown>,
  options: McpRequestOptions = {},
): Request {
  return new Request(options.url ?? RESOURCE, {
    method: 'POST',
    headers: mcpHeaders({ ...options, headers: { 'mcp-protocol-version': LEGACY_VERSION, ...options.headers } }),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) }),
  });
}

/** A JSON-RPC request as a 2026-07-28 client sends it: `_meta` envelope in params, Mcp-Method / Mcp-Name headers. */
export function modernRequest(
  method: string,
  params: Record<string, unknown> = {},
  options: McpRequestOptions = {},
): Request {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return new Request(options.url ?? RESOURCE, {
    method: 'POST',
    headers: mcpHeaders({
      ...options,
      headers: { 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': method, ...name, ...options.headers },
    }),
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: modernEnvelope() } }),
  });
}

/** The per-request envelope a 2026-07-28 client puts in `params._meta`. */
export function modernEnvelope(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'unit-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
}

export interface ToolCallResult {
  content: Array<{ type: string; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}
export interface JsonRpcResponse<T = unknown> {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: T;
  error?: { code: number; message: string; data?: unknown };
}

export async function rpc<T = unknown>(response: Response): Promise<JsonRpcResponse<T>> {
  return (await response.json()) as JsonRpcResponse<T>;
}

/** Parses a WWW-Authenticate Bearer challenge into its parameters. */
export function parseChallenge(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  for (const match of header.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g))
    params[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
  return params;
}

/** The usual fixture: network blocked, a test app, a signed user token. Pair with stopTestApp in `after`. */
export async function startTestApp(
  options: Parameters<typeof createTestApp>[0] = {},
): Promise<{ t: TestApp; token: string }> {
  blockNetwork();
  const t = await createTestApp(options);
  return { t, token: await t.signer.sign() };
}

/** Closes the app after checking that no log line of the whole suite held a token. */
export async function stopTestApp(t: TestApp | undefined): Promise<void> {
  if (!t) return;
  const leaked = linesWithTokens(t.lines);
  await t.close();
  if (leaked.length) throw new Error(`log lines contain tokens: ${leaked.length}`);
}

/**
 * Asserts what the fake token endpoint received is one RFC 8693 exchange by mcp-server: client_secret_basic
 * (id and secret form-urlencoded before base64, RFC 6749 §2.3.1), the subject token, both token types, audience
 * stock-api and exactly `scope`.
 */
export function assertExchangeRequest(
  recorded: RecordedRequest | undefined,
  expected: { subjectToken: string; scope: string },
): void {
  if (!recorded) throw new Error('no request reached the token endpoint');
  const [scheme, credentials] = String(recorded.headers.authorization).split(' ');
  if (scheme !== 'Basic') throw new Error(`client auth scheme is ${scheme}, not Basic`);
  const pair = Buffer.from(credentials ?? '', 'base64')
    .toString()
    .split(':')
    .map((part) => decodeURIComponent(part));
  const form = new URLSearchParams(recorded.body);
  const actual = {
    client: pair,
    grant_type: form.get('grant_type'),
    subject_token: form.get('subject_token'),
    subject_token_type: form.get('subject_token_type'),
    requested_token_type: form.get('requested_token_type'),
    audience: form.get('audience'),
    scope: form.get('scope'),
    client_secret: form.get('client_secret'),
  };
  const wanted = {
    client: [CLIENT_ID, CLIENT_SECRET],
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: expected.subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    requested_token_type: ACCESS_TOKEN_TYPE,
    audience: 'stock-api',
    scope: expected.scope,
    client_secret: null,
  };
  if (JSON.stringify(actual) !== JSON.stringify(wanted))
    throw new Error(`unexpected exchange request:\n${JSON.stringify(actual)}\nwanted\n${JSON.stringify(wanted)}`);
}

/** The Redis the native stack and CI machines run on 127.0.0.1:6379; Redis suites are skipped without one. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether a Redis answers PONG at TEST_REDIS_URL. */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
