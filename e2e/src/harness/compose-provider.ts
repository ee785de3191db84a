// Compose provider for the e2e suites: docker-compose.yml brought up through Testcontainers, each service gated on
// its own Docker healthcheck. Call it only where a Docker engine answers (scripts/run-tests.ts checks dockerStatus()).
import { basename, dirname } from 'node:path';
import { DockerComposeEnvironment, Wait } from 'testcontainers';
import { composeFile, DEFAULT_PORTS, urlsFor, type ServiceName, type StackPorts, type StackUrls } from '@sandbox/stack';

const SERVICES: readonly ServiceName[] = ['keycloak', 'redis', 'stock-api', 'mcp-server'];

/** Keycloak's first start (image pull, realm import) dominates; the healthcheck retries cover about 5 minutes. */
const STARTUP_TIMEOUT_MS = 300_000;

export interface ComposeStack {
  urls: StackUrls;
  ports: StackPorts;
  /** Things a suite should know about this provider. */
  notes: string[];
  stop(): Promise<void>;
}

export async function startComposeStack(): Promise<ComposeStack> {
  let environment = new DockerComposeEnvironment(dirname(composeFile), basename(composeFile))
    .withProjectName(`mcp-sandbox-e2e-${process.pid}`)
    .withBuild()
    // Same short exchanged-token lifetime as the native e2e stack, so the cache-expiry test waits ~10 s, not 5 min.
    .withEnvironment({ MCP_EXCHANGED_TOKEN_LIFESPAN: '45', EXCHANGE_CACHE_SKEW_S: '35' })
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
  // Testcontainers names compose containers "<service>-<index>" once the project prefix is stripped.
  for (const service of SERVICES) environment = environment.withWaitStrategy(`${service}-1`, Wait.forHealthCheck());

  const started = await environment.up();
  return {
    // docker-compose.yml publishes the default ports on 127.0.0.1, so the URLs are those of `make up`.
    urls: urlsFor(DEFAULT_PORTS),
    ports: DEFAULT_PORTS,
    notes: [
      `compose project mcp-sandbox-e2e-${process.pid} from ${composeFile}`,
      'Redis is not published to the host: urls.redis does not reach the compose Redis (only mcp-server uses it)',
      'ports are the defaults (8080, 9000, 3000, 4000): stop `make up` first; the fixed subnet 172.28.0.0/16 allows one such project at a time',
    ],
    stop: async () => {
      await started.down({ removeVolumes: true, timeout: 10_000 });
    },
  };
}
