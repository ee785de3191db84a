// The shared profile (`make up PROFILE=shared`): docker-compose.shared.yml, a production-shaped sandbox for a room or
// for many CI jobs. This module names its host, ports and URLs, writes what compose interpolates (.run/shared.env),
// makes sure the images, the host's certificate, the state key and the extension jar exist, and runs compose.
// docs/scale.md explains the topology.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dockerStatus } from './docker.ts';
import { StackError } from './errors.ts';
import { imageExists, localImageTags, type LocalImages } from './images.ts';
import { repoRoot } from './paths.ts';
import { ensureStateKey, machineClientEnv } from './secrets.ts';
import { stackSettings, type StackSettings } from './settings.ts';
import { buildSharedImages, sharedImageTags, type SharedImages } from './shared-images.ts';
import { ensureSharedHostTls, keyOwnerEnv } from './tls.ts';
import { REALM } from './spec.ts';

export const SHARED_PROJECT = 'mcp-sandbox-shared';
export const sharedComposeFile = join(repoRoot, 'docker-compose.shared.yml');
/** What compose interpolates (image tags, host, state key, uid/gid); owner-only, since it holds the state key. */
export const sharedEnvFile = join(repoRoot, '.run', 'shared.env');

/** `.localhost` names resolve to loopback in browsers and curl (RFC 6761); a room uses a real name (docs/scale.md). */
export const DEFAULT_SHARED_HOST = 'sandbox.localhost';

/** Host ports: none of the laptop profile's (8080, 9000, 3000, 4000, 4100, 8443), so both profiles can run at once. */
export const SHARED_PORTS = Object.freeze({
  keycloak: 9443,
  mcp: 9444,
  approvalDevice: 9445,
  clientDocs: 9446,
  /** haproxy's /healthz and /stats (127.0.0.1 only). */
  balancer: 9404,
  /** Each Keycloak node alone, plain HTTP on 127.0.0.1: keycloak-1, keycloak-2. */
  keycloakNodes: Object.freeze([9481, 9482]),
  /** Each node's management port (health): keycloak-1, keycloak-2. */
  keycloakNodesManagement: Object.freeze([9491, 9492]),
});

/** docker-compose.shared.yml's network: the gateway is the host's address as Keycloak sees it; haproxy is fixed. */
export const SHARED_NETWORK = Object.freeze({
  subnet: '10.89.25.0/24',
  gateway: '10.89.25.1',
  balancer: '10.89.25.10',
});

export const KEYCLOAK_NODES = Object.freeze(['keycloak-1', 'keycloak-2']);
export const MCP_REPLICAS = Object.freeze(['mcp-server-1', 'mcp-server-2']);

/** SANDBOX_HOST (parsed with the other launcher settings), else DEFAULT_SHARED_HOST. */
export function sharedHost(settings: StackSettings = stackSettings()): string {
  return settings.sharedHost ?? DEFAULT_SHARED_HOST;
}

export interface SharedUrls {
  host: string;
  keycloak: string;
  issuer: string;
  mcp: string;
  mcpOrigin: string;
  approvalDevice: string;
  clientDocs: string;
  balancerHealth: string;
  /** Each node directly (no balancer), plain HTTP on 127.0.0.1. */
  keycloakNodes: string[];
  keycloakNodesManagement: string[];
}

export function sharedUrls(host: string = sharedHost()): SharedUrls {
  const keycloak = `https://${host}:${SHARED_PORTS.keycloak}`;
  const mcpOrigin = `https://${host}:${SHARED_PORTS.mcp}`;
  return {
    host,
    keycloak,
    issuer: `${keycloak}/realms/${REALM}`,
    mcp: `${mcpOrigin}/mcp`,
    mcpOrigin,
    approvalDevice: `https://${host}:${SHARED_PORTS.approvalDevice}`,
    clientDocs: `https://${host}:${SHARED_PORTS.clientDocs}`,
    balancerHealth: `http://127.0.0.1:${SHARED_PORTS.balancer}/healthz`,
    keycloakNodes: SHARED_PORTS.keycloakNodes.map((port) => `http://127.0.0.1:${port}`),
    keycloakNodesManagement: SHARED_PORTS.keycloakNodesManagement.map((port) => `http://127.0.0.1:${port}`),
  };
}

/** Every variable docker-compose.shared.yml interpolates without a default, and the ones `make up` decides. */
export function sharedComposeEnv(options: {
  host: string;
  stateKey: string;
  shared: SharedImages;
  local: LocalImages;
  extraCaCerts?: string;
}): Record<string, string> {
  return {
    POSTGRES_IMAGE: options.shared.postgres,
    HAPROXY_IMAGE: options.shared.haproxy,
    KEYCLOAK_SHARED_IMAGE: options.shared.keycloakShared,
    REDIS_IMAGE: options.local.redis,
    NODE_IMAGE: options.local.node,
    SANDBOX_HOST: options.host,
    SANDBOX_STATE_KEY: options.stateKey,
    ...machineClientEnv(),
    ...keyOwnerEnv(),
    ...(options.extraCaCerts ? { EXTRA_CA_CERTS: options.extraCaCerts } : {}),
  };
}

function currentEnv(): Record<string, string> {
  return sharedComposeEnv({
    host: sharedHost(),
    stateKey: ensureStateKey(),
    shared: sharedImageTags(),
    local: localImageTags(),
    extraCaCerts: stackSettings().extraCaCerts,
  });
}

function writeEnvFile(env: Record<string, string>): void {
  mkdirSync(dirname(sharedEnvFile), { recursive: true });
  writeFileSync(
    sharedEnvFile,
    [
      '# Written by `make up PROFILE=shared` (stack/src/shared.ts): what docker-compose.shared.yml interpolates.',
      "# Owner-only: it holds the MCP server replicas' state key.",
      ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(sharedEnvFile, 0o600);
}

function compose(args: string[], env: Record<string, string>, what: string, project: string): void {
  const result = spawnSync('docker', ['compose', '-f', sharedComposeFile, '-p', project, ...args], {
    stdio: 'inherit',
    env: { ...stackSettings().env, ...env },
  });
  if (result.status !== 0)
    throw new StackError(
      'service_failed',
      `${what} failed (docker compose ${args.join(' ')} exited ${result.status})`,
      `\`docker compose -p ${project} ps\` shows which service is unhealthy, \`docker compose -p ${project} logs <service>\` why`,
    );
}

/** The containers of a shared project that exist (running or not). */
export function sharedContainers(project: string = SHARED_PROJECT): string[] {
  const result = spawnSync(
    'docker',
    ['ps', '--all', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}'],
    { encoding: 'utf8' },
  );
  return result.status === 0 ? result.stdout.split('\n').filter(Boolean) : [];
}

function requireEngine(): void {
  const docker = dockerStatus();
  if (!docker.available)
    throw new StackError(
      'docker_unavailable',
      `the shared profile runs on Docker Compose: ${docker.reason}`,
      'start an engine (`bash scripts/install-docker.sh` on Debian 12), then `make images PROFILE=shared`',
    );
}

export interface SharedOptions {
  /** The compose project (default SHARED_PROJECT); the e2e proof uses its own, so its database is its own volume. */
  project?: string;
}

export interface SharedStack {
  project: string;
  urls: SharedUrls;
  /** Seconds: certificate and images, then `compose up --wait`. */
  timings: { prepare: number; up: number; total: number };
  imagesBuilt: string[];
}

/**
 * Brings the shared profile up (or leaves it running as it is): the host's certificate from the local CA, the state
 * key, any shared image a change made stale (from the laptop images `make images` built), then `up --wait --build`.
 */
export async function startShared(
  log: (line: string) => void = () => {},
  options: SharedOptions = {},
): Promise<SharedStack> {
  const project = options.project ?? SHARED_PROJECT;
  const started = performance.now();
  requireEngine();
  const host = sharedHost();
  ensureSharedHostTls(host);
  const local = localImageTags();
  const absent = [local.base, local.node, local.redis, local.keycloak].filter((tag) => !imageExists(tag));
  if (absent.length > 0)
    throw new StackError(
      'service_failed',
      `the shared profile needs the images \`make images\` builds; missing: ${absent.join(', ')}`,
      'run `make images PROFILE=shared` (builds them all from package registries), then `make up PROFILE=shared`',
    );
  const wanted = sharedImageTags();
  const stale = Object.values(wanted).filter((tag) => !imageExists(tag));
  if (stale.length > 0) {
    log(`building ${stale.join(', ')} (a Dockerfile, the Keycloak options or keycloak/extensions changed)`);
    await buildSharedImages(log, local);
  }
  const env = currentEnv();
  writeEnvFile(env);
  const prepared = performance.now();
  log(`docker compose -f docker-compose.shared.yml up --wait (project ${project}, host ${host})`);
  compose(['up', '--detach', '--wait', '--build', '--remove-orphans'], env, 'starting the shared profile', project);
  const done = performance.now();
  const seconds = (ms: number) => Math.round(ms / 100) / 10;
  return {
    project,
    urls: sharedUrls(host),
    timings: { prepare: seconds(prepared - started), up: seconds(done - prepared), total: seconds(done - started) },
    imagesBuilt: stale,
  };
}

/** Stops the shared profile; the PostgreSQL volume stays unless `volumes` (then every registered client is gone). */
export function stopShared(options: SharedOptions & { volumes?: boolean } = {}): void {
  requireEngine();
  compose(
    ['down', '--remove-orphans', ...(options.volumes ? ['--volumes'] : [])],
    currentEnv(),
    'stopping the shared profile',
    options.project ?? SHARED_PROJECT,
  );
}
