// What a stack is: ports, URLs derived from them, sandbox users. Both providers and the e2e suites share this.
export interface StackPorts {
  keycloak: number;
  keycloakManagement: number;
  mcp: number;
  stockApi: number;
  redis: number;
  /** client-docs: the HTTPS host of Client ID Metadata Documents (CIMD). */
  clientDocs: number;
  /** approval-device: the mock second device Keycloak's CIBA channel calls. */
  approvalDevice: number;
}

export type ServiceName = 'keycloak' | 'redis' | 'stock-api' | 'mcp-server' | 'client-docs' | 'approval-device';

export interface StackSpec {
  /** Names the run directory (.run/<name>) and the Redis key prefix; `make up` uses "up". */
  name: string;
  ports: StackPorts;
  /** Services to start; defaults to all. */
  services?: readonly ServiceName[];
  /** Extra environment for the MCP server (tests use it to shorten cache lifetimes and similar). */
  serverEnv?: Record<string, string>;
  /** Extra environment for the stock API (tests lower APPROVAL_THRESHOLD_USD). */
  stockEnv?: Record<string, string>;
  /** Lifespan in seconds of exchanged tokens (mcp-server client setting in the realm). */
  exchangedTokenLifespan?: number;
  /** Seconds a CIBA approval request stays open at Keycloak (realm cibaExpiresIn; 120 by default). */
  cibaExpiresIn?: number;
}

export const DEFAULT_PORTS: StackPorts = Object.freeze({
  keycloak: 8080,
  keycloakManagement: 9000,
  mcp: 3000,
  stockApi: 4000,
  redis: 6379,
  clientDocs: 8443,
  approvalDevice: 4100,
});

/**
 * e2e runs use their own ports so `make e2e` works while `make up` is running, and their own redis-server, which the
 * fault suite stops and restarts.
 */
export const E2E_PORTS: StackPorts = Object.freeze({
  keycloak: 18080,
  keycloakManagement: 19000,
  mcp: 13000,
  stockApi: 14000,
  redis: 16379,
  clientDocs: 18443,
  approvalDevice: 14100,
});

export function offsetPorts(ports: StackPorts, offset: number): StackPorts {
  return Object.freeze({
    keycloak: ports.keycloak + offset,
    keycloakManagement: ports.keycloakManagement + offset,
    mcp: ports.mcp + offset,
    stockApi: ports.stockApi + offset,
    redis: ports.redis + offset,
    clientDocs: ports.clientDocs + offset,
    approvalDevice: ports.approvalDevice + offset,
  });
}

/**
 * The e2e stacks' approval settings: a threshold low enough that a small order (8 ACME ≈ 1,139 USD) needs approval
 * whatever cash the run's alice was seeded with, and a short wait so the "nobody answers" test ends in seconds.
 */
export const E2E_APPROVAL = Object.freeze({ thresholdUsd: 1000, timeoutS: 8 });

export const REALM = 'sandbox';
export const SANDBOX_USERS = Object.freeze([
  {
    username: 'alice',
    password: 'alice-sandbox',
    roles: ['viewer', 'trader'],
    can: 'read quotes, read her portfolio, place orders',
  },
  { username: 'bob', password: 'bob-sandbox', roles: ['viewer'], can: 'read quotes and his portfolio; never trade' },
]);
export const ADMIN = Object.freeze({ username: 'admin', password: 'admin' });
/**
 * The MCP server's confidential client (token exchange). Its client ID is the MCP resource URL (`urls.mcp`): Keycloak's
 * resource indicators narrow a token's `aud` to the client whose `resource_url` matches the requested `resource`, and
 * its token exchange requires the requester's client ID in the subject token's `aud`; one value satisfies both.
 */
export const MCP_SERVER_CLIENT = Object.freeze({ secret: 'sandbox-mcp-server-secret' });
export const PUBLIC_CLIENT_ID = 'mcp-cli';
export const STOCK_API_AUDIENCE = 'stock-api';
/**
 * Host name of the sandbox's Client ID Metadata Document host: `.localhost` resolves to 127.0.0.1 in browsers and curl
 * (RFC 6761), the native Keycloak's JVM gets a hosts file, and in compose it is the client-docs service's alias. The
 * realm's CIMD policy trusts client IDs only under `https://<this host>:<clientDocs port>/clients/` (the launcher sets
 * MCP_CIMD_DOCUMENT_PREFIX; keycloak/README.md, "CIMD").
 */
export const CLIENT_DOCS_HOST = 'client-docs.localhost';

export interface StackUrls {
  keycloak: string;
  issuer: string;
  keycloakManagement: string;
  mcp: string;
  mcpOrigin: string;
  stockApi: string;
  redis: string;
  /** Public origin of client-docs; a CIMD client's client_id is `${clientDocs}/clients/<name>.json`. */
  clientDocs: string;
  /** The approval device; a user's page is `${approvalDevice}/users/<username>`. */
  approvalDevice: string;
}

export function urlsFor(ports: StackPorts): StackUrls {
  const keycloak = `http://localhost:${ports.keycloak}`;
  return {
    keycloak,
    issuer: `${keycloak}/realms/${REALM}`,
    keycloakManagement: `http://localhost:${ports.keycloakManagement}`,
    mcp: `http://localhost:${ports.mcp}/mcp`,
    mcpOrigin: `http://localhost:${ports.mcp}`,
    stockApi: `http://localhost:${ports.stockApi}`,
    redis: `redis://127.0.0.1:${ports.redis}`,
    clientDocs: `https://${CLIENT_DOCS_HOST}:${ports.clientDocs}`,
    approvalDevice: `http://localhost:${ports.approvalDevice}`,
  };
}

export interface RunningStack {
  provider: 'native' | 'compose';
  spec: StackSpec;
  urls: StackUrls;
  /** Seconds from start to ready, and per service. */
  timings: Record<string, number>;
  notes: string[];
  stop(): Promise<void>;
}

/**
 * Chromium flags for the browser suites and check-client's scripted user: they work as root on machines whose network
 * ends at loopback (no background connections, no sandbox).
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]);
