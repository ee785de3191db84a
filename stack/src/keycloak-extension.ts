// The sandbox's one Keycloak extension (keycloak/extensions): the "mcp-optional-scopes" client registration policy.
// It is compiled here with the JDK's javac against the pinned distribution's own jars (no Maven build, nothing
// fetched), and installed as a provider jar: into the cached distribution before `kc.sh build`, and into
// keycloak/providers/, which docker-compose.yml mounts. keycloak/README.md says why Keycloak needs it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { StackError } from './errors.ts';
import type { JavaRuntime } from './java.ts';
import { repoRoot } from './paths.ts';

export const EXTENSION_DIR = join(repoRoot, 'keycloak', 'extensions', 'src', 'main');
export const EXTENSION_JAR = 'sandbox-mcp-scopes.jar';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of the extension's sources: a change to them rebuilds the cached distribution and the image. */
export function extensionHash(): string {
  const hash = createHash('sha256');
  for (const file of files(EXTENSION_DIR)) hash.update(relative(EXTENSION_DIR, file)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** javac and jar of the JDK that `java` belongs to, else the ones on PATH. */
function jdkTool(java: JavaRuntime, tool: 'javac' | 'jar'): string {
  let beside: string | undefined;
  try {
    beside = join(dirname(realpathSync(java.path)), tool);
  } catch {
    beside = undefined;
  }
  return beside && existsSync(beside) ? beside : tool;
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new StackError(
      'service_failed',
      `${what} failed: ${result.error?.message ?? `${result.stdout}${result.stderr}`.slice(-2000)}`,
      result.error
        ? `install a JDK >= 17 (it needs ${command}; a JRE alone cannot compile the sandbox's Keycloak extension), or set JAVA_HOME to one`
        : 'fix the Java sources under keycloak/extensions (the error above names the line)',
    );
  }
}

/** Compiles keycloak/extensions against `keycloakHome`'s jars and writes the provider jar to `outFile`. */
export function buildExtension(keycloakHome: string, java: JavaRuntime, outFile: string): void {
  const work = mkdtempSync(join(tmpdir(), 'sandbox-kc-extension-'));
  try {
    const classes = join(work, 'classes');
    mkdirSync(classes);
    const lib = join(keycloakHome, 'lib', 'lib');
    const sources = files(join(EXTENSION_DIR, 'java'));
    const classpath = [join(lib, 'main', '*'), join(lib, 'boot', '*')].join(delimiter);
    run(
      jdkTool(java, 'javac'),
      ['--release', '17', '-cp', classpath, '-d', classes, ...sources],
      'compiling keycloak/extensions',
    );
    cpSync(join(EXTENSION_DIR, 'resources'), classes, { recursive: true });
    mkdirSync(dirname(outFile), { recursive: true });
    rmSync(outFile, { force: true });
    run(jdkTool(java, 'jar'), ['--create', '--file', outFile, '-C', classes, '.'], 'packaging keycloak/extensions');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Where docker-compose.yml mounts Keycloak's providers from (`./keycloak/providers:/opt/keycloak/providers:ro`). */
export const COMPOSE_PROVIDERS_DIR = join(repoRoot, 'keycloak', 'providers');

/**
 * Puts the extension jar where docker-compose.yml mounts it, for the upstream image and the local one alike: built
 * with the cached distribution (the same jar the native stack runs), copied only when it differs.
 */
export function installComposeProvider(distHome: string): string {
  const from = join(distHome, 'providers', EXTENSION_JAR);
  const to = join(COMPOSE_PROVIDERS_DIR, EXTENSION_JAR);
  mkdirSync(COMPOSE_PROVIDERS_DIR, { recursive: true });
  if (!existsSync(to) || !readFileSync(to).equals(readFileSync(from))) cpSync(from, to);
  return to;
}
