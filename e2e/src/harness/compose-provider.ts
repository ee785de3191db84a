// Compose provider for the e2e suites: the sandbox's Testcontainers module (checks/src/sandbox/testcontainers.ts, what
// other projects import) with the e2e settings, so this stage also tests that module. Call it only where a Docker
// engine answers (scripts/run-tests.ts checks dockerStatus()). The images are those of docker-compose.yml: upstream
// ones, or the local stand-ins `make images` names in `.env` (docker compose reads `.env` beside the file).
import { spawnSync } from 'node:child_process';
import { startSandbox } from '@sandbox/checks/testcontainers';
import { E2E_APPROVAL, type StackPorts, type StackUrls } from '@sandbox/stack';

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
  // Without Testcontainers' reaper (no registry to pull it from) a crashed run's project is removed here instead.
  const stale = removeStaleProjects();
  const sandbox = await startSandbox({
    projectName: `mcp-sandbox-e2e-${process.pid}`,
    // Same short exchanged-token lifetime as the native e2e stack, so the cache-expiry test waits ~10 s, not 5 min.
    environment: {
      MCP_EXCHANGED_TOKEN_LIFESPAN: '45',
      EXCHANGE_CACHE_SKEW_S: '35',
      APPROVAL_THRESHOLD_USD: String(E2E_APPROVAL.thresholdUsd),
      APPROVAL_TIMEOUT_S: String(E2E_APPROVAL.timeoutS),
    },
  });
  return {
    project: sandbox.project,
    urls: sandbox.urls,
    ports: sandbox.ports,
    notes: [
      ...(stale.length > 0 ? [`removed stale e2e projects: ${stale.join(', ')}`] : []),
      ...sandbox.notes,
      'stop `make up` first: the compose file publishes the default ports',
    ],
    stop: sandbox.stop,
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
