// Compose provider for `make up`: the same services from docker-compose.yml, started with `docker compose up --wait`
// (healthchecks gate readiness). The e2e suites drive the same file through Testcontainers instead.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { repoRoot } from './paths.ts';
import { DEFAULT_PORTS, urlsFor, type RunningStack, type StackSpec } from './spec.ts';

export const composeFile = join(repoRoot, 'docker-compose.yml');

function compose(args: string[]): void {
  const result = spawnSync('docker', ['compose', '-f', composeFile, ...args], { stdio: 'inherit' });
  if (result.status !== 0) throw new StackError('service_failed', `docker compose ${args.join(' ')} failed (exit ${result.status})`, 'run `docker compose logs` to see which service failed its healthcheck');
}

export async function startCompose(spec: StackSpec): Promise<RunningStack> {
  const started = performance.now();
  compose(['up', '--detach', '--wait', '--build']);
  return {
    provider: 'compose', spec: { ...spec, ports: DEFAULT_PORTS }, urls: urlsFor(DEFAULT_PORTS),
    timings: { total: Math.round(performance.now() - started) / 1000 }, notes: ['compose project from docker-compose.yml'],
    stop: async () => compose(['down', '--volumes']),
  };
}

export function stopCompose(): void {
  compose(['down', '--volumes']);
}
