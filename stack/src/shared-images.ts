// `make images PROFILE=shared`: the three images the shared profile (docker-compose.shared.yml) adds to the laptop's,
// built from package registries alone on the same debootstrap base (stack/src/images.ts builds that first):
//   postgres         base + Debian's postgresql-15 + stack/images/postgres-entrypoint.sh        → POSTGRES_IMAGE
//   haproxy          base + Debian's haproxy (2.6 LTS)                                          → HAPROXY_IMAGE
//   keycloak-shared  the local Keycloak image + the extension jar + `kc.sh build --db=postgres`  → KEYCLOAK_SHARED_IMAGE
// Each tag carries a hash of what went into the image (Dockerfile, entrypoint, Keycloak build options, extension
// sources), so a change builds a new image and an unchanged one is reused (a second run takes about a second).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { findJava } from './java.ts';
import { ensureKeycloakDist, KEYCLOAK_FEATURE_OPTIONS, KEYCLOAK_HARDENING_OPTIONS } from './keycloak-dist.ts';
import { EXTENSION_JAR, extensionHash } from './keycloak-extension.ts';
import {
  dockerBuild,
  imageExists,
  imagesDir,
  linkOrCopy,
  localImageTags,
  withContext,
  type LocalImages,
} from './images.ts';
import { pins } from './versions.ts';

type Log = (line: string) => void;

/**
 * What `kc.sh build` bakes into the shared Keycloak image: PostgreSQL, health checks on the management port, and the
 * same features and hardening as the laptop profile (docker-compose.yml and the native build pass the same lists).
 * The cache (ispn) and its discovery stack (jdbc-ping) are Keycloak 26.7's defaults for `start` and runtime options.
 */
export const KEYCLOAK_SHARED_BUILD_OPTIONS: readonly string[] = Object.freeze([
  '--db=postgres',
  '--health-enabled=true',
  ...KEYCLOAK_FEATURE_OPTIONS,
  ...KEYCLOAK_HARDENING_OPTIONS,
]);

export interface SharedImages {
  postgres: string;
  haproxy: string;
  keycloakShared: string;
}

const fileText = (name: string) => readFileSync(join(imagesDir, name), 'utf8');

/** Ten hex digits of SHA-256 over the parts, in order. */
export function contentHash(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 10);
}

export function sharedImageTags(
  read: (name: string) => string = fileText,
  extension: string = extensionHash(),
): SharedImages {
  return {
    postgres: `mcp-sandbox/postgres:15-bookworm-${contentHash([read('postgres.Dockerfile'), read('postgres-entrypoint.sh')])}`,
    haproxy: `mcp-sandbox/haproxy:debian-bookworm-${contentHash([read('haproxy.Dockerfile')])}`,
    keycloakShared: `mcp-sandbox/keycloak-shared:${pins.keycloak}-${contentHash([
      read('keycloak-shared.Dockerfile'),
      KEYCLOAK_SHARED_BUILD_OPTIONS.join(' '),
      extension,
    ])}-jre17-bookworm`,
  };
}

/** Which of the shared profile's images (and the laptop images they build on) are not built yet. */
export function missingSharedImages(
  shared: SharedImages = sharedImageTags(),
  local: LocalImages = localImageTags(),
): string[] {
  return [local.node, local.redis, local.keycloak, ...Object.values(shared)].filter((tag) => !imageExists(tag));
}

/**
 * Builds whichever shared image is missing. The laptop images must exist (`buildLocalImages` first): postgres and
 * haproxy use its Debian base, keycloak-shared its Keycloak image.
 */
export async function buildSharedImages(log: Log, local: LocalImages = localImageTags()): Promise<SharedImages> {
  const images = sharedImageTags();
  for (const needed of [local.base, local.keycloak])
    if (!imageExists(needed))
      throw new StackError(
        'service_failed',
        `the shared profile's images build on ${needed}, which is not built`,
        'run `make images` first (or `make images PROFILE=shared`, which does both)',
      );
  const steps: Array<[keyof SharedImages, () => void | Promise<void>]> = [
    [
      'postgres',
      () =>
        withContext(
          (dir) => linkOrCopy(join(imagesDir, 'postgres-entrypoint.sh'), join(dir, 'postgres-entrypoint.sh')),
          (dir) => dockerBuild('postgres.Dockerfile', images.postgres, dir, { BASE_IMAGE: local.base }),
        ),
    ],
    [
      'haproxy',
      () =>
        withContext(
          () => {},
          (dir) => dockerBuild('haproxy.Dockerfile', images.haproxy, dir, { BASE_IMAGE: local.base }),
        ),
    ],
    [
      'keycloakShared',
      async () => {
        // The jar the native stack runs, compiled against the pinned distribution's own jars.
        const dist = await ensureKeycloakDist(findJava(), log);
        withContext(
          (dir) => linkOrCopy(join(dist.home, 'providers', EXTENSION_JAR), join(dir, EXTENSION_JAR)),
          (dir) =>
            dockerBuild('keycloak-shared.Dockerfile', images.keycloakShared, dir, {
              KEYCLOAK_IMAGE: local.keycloak,
              KC_BUILD_OPTIONS: KEYCLOAK_SHARED_BUILD_OPTIONS.join(' '),
            }),
        );
      },
    ],
  ];
  for (const [name, build] of steps) {
    if (imageExists(images[name])) {
      log(`${name}: ${images[name]} (already built)`);
      continue;
    }
    const started = performance.now();
    log(`${name}: building ${images[name]}`);
    await build();
    log(`${name}: built ${images[name]} in ${Math.round((performance.now() - started) / 100) / 10} s`);
  }
  return images;
}
