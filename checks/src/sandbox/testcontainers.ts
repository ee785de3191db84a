// The sandbox as a Testcontainers module for other projects' tests: docker-compose.yml of this repository brought up
// through Testcontainers, each service gated on its own Docker healthcheck, then the URLs, the users and real user
// tokens. The e2e compose stage (e2e/src/harness/compose-provider.ts) starts its stack through this module too.
// No container registry of ours: the images are built from this repository (compose `build:`; `make images` builds
// every one, Keycloak and Redis included, from package registries alone and names them in `.env`).
//
// @example
//   import { startSandbox } from '<sandbox checkout>/checks/src/sandbox/testcontainers.ts';
//   const sandbox = await startSandbox();
//   const { accessToken } = await sandbox.userTokens('alice', 'mcp:tools trade:read', { audience: 'http://localhost:3100/mcp' });
//   … your server trusts sandbox.urls.issuer …
//   await sandbox.stop();
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import {
  ADMIN,
  composeFile,
  composeSecrets,
  DEFAULT_PORTS,
  prepareComposeMounts,
  PUBLIC_CLIENT_ID,
  SANDBOX_USERS,
  urlsFor,
  type ServiceName,
  type StackPorts,
  type StackUrls,
} from '@sandbox/stack';
import { sandboxTokens, type SandboxTokens } from './tokens.ts';

export { sandboxTokens, harnessClientId, SandboxTokenError } from './tokens.ts';
export type { SandboxTokens, SandboxUser, TokenOptions, UserTokens } from './tokens.ts';

const SERVICES: readonly ServiceName[] = [
  'keycloak',
  'redis',
  'stock-api',
  'mcp-server',
  'client-docs',
  'approval-device',
];

/** Testcontainers' reaper image: pulled from Docker Hub, so absent where no registry answers. */
const RYUK_IMAGE = 'testcontainers/ryuk:0.14.0';

export interface SandboxOptions {
  /** Compose project name; its containers carry it as a label. Default `mcp-sandbox-<pid>`. */
  projectName?: string;
  /** Compose variables (docker-compose.yml reads e.g. MCP_EXCHANGED_TOKEN_LIFESPAN, APPROVAL_THRESHOLD_USD). */
  environment?: Record<string, string>;
  /** Keycloak's first start (image build, realm import) dominates; default 5 minutes. */
  startupTimeoutMs?: number;
}

export interface StartedSandbox {
  project: string;
  /** Public URLs as the host sees them: issuer, Keycloak, MCP endpoint, stock API, client-docs, approval device. */
  urls: StackUrls;
  ports: StackPorts;
  /** The realm's users (alice can trade, bob only reads), the Keycloak admin, the public CLI client. */
  users: typeof SANDBOX_USERS;
  admin: typeof ADMIN;
  publicClientId: string;
  /** Real tokens from Keycloak's password grant through a test client (see tokens.ts). */
  userTokens: SandboxTokens['userTokens'];
  /** What to know about this start (reaper, mounts, ports). */
  notes: string[];
  /** Deletes the test clients, then takes the compose project down with its volumes. */
  stop(): Promise<void>;
}

/**
 * Starts the whole sandbox from docker-compose.yml. Needs a Docker engine with Compose v2 and a JDK ≥ 17 (the realm's
 * Keycloak extension is compiled on the host and mounted). Publishes the default ports on 127.0.0.1 (8080, 9000,
 * 3000, 4000, 4100, 8443), so one sandbox per machine, and `make up` must not be running.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<StartedSandbox> {
  const project = options.projectName ?? `mcp-sandbox-${process.pid}`;
  const notes: string[] = [];
  // Ryuk removes containers left by a crashed run; it cannot be pulled where no registry answers. Then stop() (and a
  // caller's own clean-up of stale projects) is all the clean-up there is.
  if (spawnSync('docker', ['image', 'inspect', RYUK_IMAGE], { stdio: 'ignore' }).status !== 0) {
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    notes.push(`Testcontainers' reaper (${RYUK_IMAGE}) is not available here: disabled; stop() cleans up`);
  }
  notes.push(`mounted from the checkout: ${(await prepareComposeMounts()).join(', ')}`);
  let environment = new DockerComposeEnvironment(dirname(composeFile), basename(composeFile))
    .withProjectName(project)
    .withBuild()
    .withEnvironment({ ...composeSecrets(), ...options.environment })
    .withStartupTimeout(options.startupTimeoutMs ?? 300_000);
  // Testcontainers names compose containers "<service>-<index>" once the project prefix is stripped.
  for (const service of SERVICES) environment = environment.withWaitStrategy(`${service}-1`, Wait.forHealthCheck());

  let started: StartedDockerComposeEnvironment;
  try {
    started = await environment.up();
  } catch (error) {
    // A failed start leaves the healthy services running: take the whole project down before reporting.
    spawnSync('docker', ['compose', '-p', project, 'down', '--volumes', '--timeout', '5'], { stdio: 'ignore' });
    throw error;
  }
  const running = started;
  // docker-compose.yml publishes the default ports on 127.0.0.1, and the realm's issuer is built from them.
  const urls = urlsFor(DEFAULT_PORTS);
  const tokens = sandboxTokens(urls.keycloak);
  return {
    project,
    urls,
    ports: DEFAULT_PORTS,
    users: SANDBOX_USERS,
    admin: ADMIN,
    publicClientId: PUBLIC_CLIENT_ID,
    userTokens: tokens.userTokens,
    notes: [
      ...notes,
      `compose project ${project} from ${composeFile}`,
      'Redis is not published to the host: urls.redis does not reach the compose Redis (only mcp-server uses it)',
      'ports are the defaults (8080, 9000, 3000, 4000, 4100, 8443); the fixed subnet 172.28.0.0/16 allows one sandbox at a time',
    ],
    stop: async () => {
      await tokens.cleanup().catch(() => undefined);
      await running.down({ removeVolumes: true, timeout: 10_000 });
    },
  };
}
