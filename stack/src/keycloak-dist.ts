// Fetch the Keycloak server distribution once per version into the cache, verify it, unpack it and pre-build it.
// Order: Maven (`mvn dependency:copy`, uses the user's configured repositories) when `mvn` is on PATH, else HTTPS
// from Maven Central (or the mirror in SANDBOX_MAVEN_REPO). Either way the archive's SHA-1 must match keycloak/version.json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StackError } from './errors.ts';
import type { JavaRuntime } from './java.ts';
import { buildExtension, EXTENSION_JAR, extensionHash } from './keycloak-extension.ts';
import { MAVEN_CENTRAL, stackSettings, type StackSettings } from './settings.ts';
import { pins } from './versions.ts';

const GROUP_PATH = 'org/keycloak/keycloak-quarkus-dist';
export { MAVEN_CENTRAL };

/**
 * What the sandbox switches off in Keycloak itself (build-time options; docker-compose.yml passes the same, checked by
 * a test): the device grant (its page shows a name any registrant chooses, and the user's token then goes to a client
 * with no redirect URI at all) and the Keycloak-format registration endpoint (`clients-registrations/default`, where an
 * anonymous registrant could set any client attribute, such as its own token lifespan). keycloak/README.md explains.
 */
export const KEYCLOAK_HARDENING_OPTIONS = [
  '--features-disabled=device-flow',
  '--spi-client-registration--default--enabled=false',
];
/** Options baked into the cached build so every run can `start --optimized` (no 35 s re-augmentation per run). */
/**
 * Keycloak features the sandbox turns on (compose passes the same, checked by a test), both experimental in 26.x:
 * RFC 8707 resource indicators, so a token requested for the MCP resource has exactly that `aud`; and Client ID
 * Metadata Documents (`cimd`), so a client whose client_id is an https URL needs no registration (the realm's "cimd"
 * client policy says which hosts).
 */
export const KEYCLOAK_FEATURE_OPTIONS = ['--features=resource-indicators,cimd'];
export const KEYCLOAK_BUILD_OPTIONS = [
  '--db=dev-mem',
  '--health-enabled=true',
  '--cache=local',
  ...KEYCLOAK_FEATURE_OPTIONS,
  ...KEYCLOAK_HARDENING_OPTIONS,
];
const builtWith = () => `options: ${KEYCLOAK_BUILD_OPTIONS.join(' ')}\nextension: ${extensionHash()}`;

export interface KeycloakDist {
  home: string;
  version: string;
  fetchedNow: boolean;
  via?: string;
}

type Log = (line: string) => void;

async function sha1(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

async function downloadViaMaven(version: string, dir: string): Promise<string | undefined> {
  if (!hasCommand('mvn')) return undefined;
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      'dependency:copy',
      `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
      `-DoutputDirectory=${dir}`,
    ],
    { encoding: 'utf8' },
  );
  const file = join(dir, `keycloak-quarkus-dist-${version}.tar.gz`);
  return result.status === 0 && existsSync(file) ? file : undefined;
}

/** "fetch failed" alone says nothing; undici keeps the reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function fetchFailure(error: unknown): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  const reason = err.cause?.code ?? err.cause?.message;
  return reason ? `${err.message} (${reason})` : err.message;
}

async function downloadViaHttps(version: string, dir: string, log: Log, settings: StackSettings): Promise<string> {
  const repo = settings.mavenRepo;
  const url = distributionUrl(version, settings);
  log(`downloading ${url}`);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  } catch (cause) {
    throw new StackError(
      'download_failed',
      `Could not download Keycloak ${version} from ${url}: ${fetchFailure(cause)}`,
      `check network access to ${repo} (or a proxy), or set SANDBOX_MAVEN_REPO to a Maven mirror you can reach; with mvn on PATH, its configured repositories are tried first`,
      { cause },
    );
  }
  if (!response.ok) {
    throw new StackError(
      'download_failed',
      `Downloading Keycloak ${version} failed: HTTP ${response.status} from ${url}`,
      `check that ${repo}/${GROUP_PATH}/${version}/ exists (keycloak/version.json pins ${version}); if you use a mirror, check SANDBOX_MAVEN_REPO`,
    );
  }
  let body: ArrayBuffer;
  try {
    body = await response.arrayBuffer();
  } catch (cause) {
    throw new StackError(
      'download_failed',
      `Downloading Keycloak ${version} from ${url} broke off: ${fetchFailure(cause)}`,
      `retry; if it keeps failing, check network access to ${repo} (or a proxy), or set SANDBOX_MAVEN_REPO to a Maven mirror you can reach`,
      { cause },
    );
  }
  const file = join(dir, `keycloak-quarkus-dist-${version}.tar.gz`);
  await writeFile(file, Buffer.from(body));
  return file;
}

/** Where the verified archive is kept: `make images` builds the Keycloak container image from it. */
export function archivePath(version = pins.keycloak, settings: StackSettings = stackSettings()): string {
  return join(settings.cacheDir, 'archives', `keycloak-quarkus-dist-${version}.tar.gz`);
}

/** Fetches the pinned distribution archive into the cache once, SHA-1 checked; a corrupt download never stays. */
export async function ensureKeycloakArchive(
  log: Log = () => {},
  settings: StackSettings = stackSettings(),
): Promise<{ file: string; via?: string }> {
  const version = pins.keycloak;
  const file = archivePath(version, settings);
  if (existsSync(file) && (await sha1(file)) === pins.sha1) return { file };
  const partial = join(dirname(file), `.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    log(`Keycloak ${version} is not cached yet; fetching it into ${dirname(file)}`);
    // SANDBOX_FETCH_VIA=https skips Maven (for machines whose Maven has no route to Central, and to test the fallback).
    let via = 'maven';
    let archive = settings.fetchVia === 'https' ? undefined : await downloadViaMaven(version, partial);
    if (!archive) {
      via = 'https';
      archive = await downloadViaHttps(version, partial, log, settings);
    }
    const actual = await sha1(archive);
    if (actual !== pins.sha1) {
      throw new StackError(
        'checksum_mismatch',
        `Keycloak archive SHA-1 is ${actual}, expected ${pins.sha1}`,
        'the download is corrupt or the pin is wrong: delete the cache directory and retry, or fix keycloak/version.json',
      );
    }
    log(`verified SHA-1 ${actual}`);
    renameSync(archive, file);
    return { file, via };
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Returns the path of a verified, unpacked, pre-built Keycloak home for the pinned version. */
export async function ensureKeycloakDist(
  java: JavaRuntime,
  log: Log = () => {},
  settings: StackSettings = stackSettings(),
): Promise<KeycloakDist> {
  const version = pins.keycloak;
  const root = join(settings.cacheDir, `keycloak-${version}`);
  const home = join(root, `keycloak-${version}`);
  const marker = join(root, '.built');
  if (existsSync(marker)) {
    if (readFileSync(marker, 'utf8').includes(builtWith())) return { home, version, fetchedNow: false };
    log(
      `the cached Keycloak ${version} was built with other options or another keycloak/extensions; building it again`,
    );
    build(home, java, settings, log);
    writeFileSync(marker, `${new Date().toISOString()} rebuilt\n${builtWith()}\n`);
    return { home, version, fetchedNow: false };
  }

  rmSync(root, { recursive: true, force: true });
  const { file: archive, via = 'cache' } = await ensureKeycloakArchive(log, settings);
  mkdirSync(root, { recursive: true });
  log(`unpacking ${archive}`);
  const untar = spawnSync('tar', ['xzf', archive, '-C', root], { encoding: 'utf8' });
  if (untar.status !== 0)
    throw new StackError(
      'download_failed',
      `Unpacking ${archive} failed: ${untar.stderr}`,
      'check free disk space in the cache directory',
    );

  build(home, java, settings, log);
  writeFileSync(marker, `${new Date().toISOString()} via ${via}\n${builtWith()}\n`);
  return { home, version, fetchedNow: true, via };
}

/** The sandbox's extension into providers/, then `kc.sh build` with KEYCLOAK_BUILD_OPTIONS (about 30-60 s). */
function build(home: string, java: JavaRuntime, settings: StackSettings, log: Log = () => {}): void {
  log(`compiling keycloak/extensions into providers/${EXTENSION_JAR}`);
  buildExtension(home, java, join(home, 'providers', EXTENSION_JAR));
  log(
    `pre-building Keycloak (${KEYCLOAK_BUILD_OPTIONS.join(' ')}) with Java ${java.major}; about 30-60 s, once per version`,
  );
  const result = spawnSync(join(home, 'bin', 'kc.sh'), ['build', ...KEYCLOAK_BUILD_OPTIONS], {
    encoding: 'utf8',
    env: { ...settings.env, JAVA: java.path },
  });
  if (result.status !== 0) {
    throw new StackError(
      'service_failed',
      `kc.sh build failed:\n${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`,
      `delete ${dirname(home)} and retry; if it persists, try another JDK via JAVA_HOME`,
    );
  }
}

export function isCached(settings: StackSettings = stackSettings()): boolean {
  return existsSync(join(settings.cacheDir, `keycloak-${pins.keycloak}`, '.built'));
}

// Exported for the docs test: the same URL the HTTPS fallback uses.
export function distributionUrl(version = pins.keycloak, settings: StackSettings = stackSettings()): string {
  return `${settings.mavenRepo}/${GROUP_PATH}/${version}/keycloak-quarkus-dist-${version}.tar.gz`;
}
