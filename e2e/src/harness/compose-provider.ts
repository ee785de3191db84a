// Compose provider for the e2e suites: docker-compose.yml brought up through Testcontainers, each service gated on
// its own Docker healthcheck. Call it only where a Docker engine answers (scripts/run-tests.ts checks dockerStatus()).
// The images are those of docker-compose.yml: upstream ones, or the local stand-ins `make images` names in `.env`
// (docker compose reads `.env` beside the file, under Testcontainers too).
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import {
  E2E_APPROVAL,
  composeFile,
  DEFAULT_PORTS,
  prepareComposeMounts,
  urlsFor,
  type ServiceName,
  type StackPorts,
  type StackUrls,
} from '@sandbox/stack';

const SERVICES: readonly ServiceName[] = [
  'keycloak',
  'redis',
  'stock-api',
  'mcp-server',
  'client-docs',
  'approval-device',
];

/** Keycloak's first start (image pull, realm import) dominates; the healthcheck retries cover about 5 minutes. */
const STARTUP_TIMEOUT_MS = 300_000;

/** Testcontainers' reaper image: pulled from Docker Hub, so absent where no registry answers. */
const RYUK_IMAGE = 'testcontainers/ryuk:0.14.0';

export interface ComposeStack {
  /** The compose project name (its containers carry it as a label; the fault suites find them by it). */
  project: string;
  urls: StackUrls;
  ports: StackPorts;
  /** Things a suite should know about this provider. */
  notes: string[];
  stop(): Promise<void>;
}

export async function startComposeStack(): Promise<ComposeStack> {
  const project = `mcp-sandbox-e2e-${process.pid}`;
  const notes: string[] = [];
  // Ryuk removes containers left by a crashed run; it cannot be pulled where no registry answers. Then the run
  // cleans up itself: stop() here, and removeStaleProjects() before the next run.
  if (spawnSync('docker', ['image', 'inspect', RYUK_IMAGE], { stdio: 'ignore' }).status !== 0) {
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    notes.push(
      `Testcontainers' reaper (${RYUK_IMAGE}) is not available here: disabled; stale e2e projects are removed before each run`,
    );
  }
  removeStaleProjects();
  notes.push(`mounted from the checkout: ${(await prepareComposeMounts()).join(', ')}`);
  let environment = new DockerComposeEnvironment(dirname(composeFile), basename(composeFile))
    .withProjectName(project)
    .withBuild()
    // Same short exchanged-token lifetime as the native e2e stack, so the cache-expiry test waits ~10 s, not 5 min.
    .withEnvironment({
      MCP_EXCHANGED_TOKEN_LIFESPAN: '45',
      EXCHANGE_CACHE_SKEW_S: '35',
      APPROVAL_THRESHOLD_USD: String(E2E_APPROVAL.thresholdUsd),
      APPROVAL_TIMEOUT_S: String(E2E_APPROVAL.timeoutS),
    })
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
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
  return {
    project,
    // docker-compose.yml publishes the default ports on 127.0.0.1, so the URLs are those of `make up`.
    urls: urlsFor(DEFAULT_PORTS),
    ports: DEFAULT_PORTS,
    notes: [
      ...notes,
      `compose project ${project} from ${composeFile}`,
      'Redis is not published to the host: urls.redis does not reach the compose Redis (only mcp-server uses it)',
      'ports are the defaults (8080, 9000, 3000, 4000, 8443): stop `make up` first; the fixed subnet 172.28.0.0/16 allows one such project at a time',
    ],
    stop: async () => {
      await running.down({ removeVolumes: true, timeout: 10_000 });
    },
  };
}

/** Takes down what an earlier e2e run that died left behind (its ports and the fixed subnet would block this one). */
export function removeStaleProjects(): string[] {
  const listed = spawnSync(
    'docker',
    ['ps', '-a', '--filter', 'label=com.docker.compose.project', '--format', '{{.Label "com.docker.compose.project"}}'],
    { encoding: 'utf8' },
  );
  const stale = [...new Set(listed.stdout.split('\n').filter((name) => /^mcp-sandbox-e2e-\d+$/.test(name)))];
  for (const name of stale)
    spawnSync('docker', ['compose', '-p', name, 'down', '--volumes', '--timeout', '5'], { stdio: 'ignore' });
  return stale;
}
