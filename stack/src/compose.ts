// Compose provider for `make up`: the same services from docker-compose.yml, started with `docker compose up --wait`
// (healthchecks gate readiness). The e2e suites drive the same file through Testcontainers instead.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { findJava } from './java.ts';
import { ensureKeycloakDist } from './keycloak-dist.ts';
import { installComposeProvider } from './keycloak-extension.ts';
import { repoRoot } from './paths.ts';
import { ensureStateKey, machineClientEnv } from './secrets.ts';
import { stackSettings } from './settings.ts';
import { ensureSandboxTls, keyOwnerEnv } from './tls.ts';
import { DEFAULT_PORTS, urlsFor, type RunningStack, type StackSpec } from './spec.ts';

export const composeFile = join(repoRoot, 'docker-compose.yml');

function compose(args: string[]): void {
  const result = spawnSync('docker', ['compose', '-f', composeFile, ...args], {
    stdio: 'inherit',
    env: { ...stackSettings().env, ...composeSecrets() },
  });
  if (result.status !== 0)
    throw new StackError(
      'service_failed',
      `docker compose ${args.join(' ')} failed (exit ${result.status})`,
      'run `docker compose logs` to see which service failed its healthcheck',
    );
}

/** The images docker-compose.yml pulls (services without a build), as resolved with `.env` and the environment. */
export function pulledImages(): string[] {
  const result = spawnSync('docker', ['compose', '-f', composeFile, 'config', '--format', 'json'], {
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new StackError(
      'bad_config',
      `docker compose config failed: ${result.stderr.trim()}`,
      'fix docker-compose.yml or the variables in .env',
    );
  const services = (JSON.parse(result.stdout) as { services: Record<string, { image?: string; build?: unknown }> })
    .services;
  return Object.values(services)
    .filter((service) => !service.build && service.image)
    .map((service) => service.image as string);
}

/**
 * What docker-compose.yml mounts from the checkout: the Keycloak extension jar (keycloak/providers), built with the
 * cached distribution, which Keycloak in a container loads at start as the native stack does; and the local CA and
 * client-docs' certificate (.run/tls). Returns the mounted paths.
 */
/**
 * What docker-compose.yml interpolates from the environment: the generated state key (never published), and the uid
 * and gid client-docs runs as, the owner of the owner-only TLS key (stack/src/tls.ts keyOwnerEnv).
 */
export function composeSecrets(): Record<string, string> {
  return { SANDBOX_STATE_KEY: ensureStateKey(), ...machineClientEnv(), ...keyOwnerEnv() };
}

export async function prepareComposeMounts(log: (line: string) => void = () => {}): Promise<string[]> {
  const dist = await ensureKeycloakDist(findJava(), log);
  return [installComposeProvider(dist.home), ensureSandboxTls().dir];
}

export async function startCompose(spec: StackSpec, log: (line: string) => void = () => {}): Promise<RunningStack> {
  const started = performance.now();
  await prepareComposeMounts(log);
  const absent = pulledImages().filter(
    (image) => spawnSync('docker', ['image', 'inspect', image], { stdio: 'ignore' }).status !== 0,
  );
  if (absent.length > 0)
    log(
      `pulling ${absent.join(', ')}; where no container registry answers, stop and run \`make images\` (builds them from package registries)`,
    );
  try {
    compose(['up', '--detach', '--wait', '--build']);
  } catch (error) {
    if (absent.length === 0) throw error;
    throw new StackError(
      'service_failed',
      `docker compose up failed; these images were not here before it: ${absent.join(', ')}`,
      'if they could not be pulled (no container registry), run `make images` and then `make up` again; else `docker compose logs` shows which service failed',
      { cause: error },
    );
  }
  return {
    provider: 'compose',
    spec: { ...spec, ports: DEFAULT_PORTS },
    urls: urlsFor(DEFAULT_PORTS),
    timings: { total: Math.round(performance.now() - started) / 1000 },
    notes: ['compose project from docker-compose.yml'],
    stop: async () => compose(['down', '--volumes', '--remove-orphans']),
  };
}

export function stopCompose(): void {
  compose(['down', '--volumes', '--remove-orphans']);
}
