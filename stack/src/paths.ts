// Where the stack keeps things: the repository root, the per-version cache and per-run state.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Downloaded distributions, keyed by version. Survives `make down` and fresh clones of the repo. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.SANDBOX_CACHE_DIR ?? (env.XDG_CACHE_HOME ? join(env.XDG_CACHE_HOME, 'mcp-keycloak-sandbox') : join(homedir(), '.cache', 'mcp-keycloak-sandbox'));
  return resolve(base);
}

/** State of one running stack (pids, logs, Keycloak home copy). `make up` uses the name "up"; e2e runs use their own. */
export function runDir(name: string): string {
  return join(repoRoot, '.run', name);
}

export const realmFile = join(repoRoot, 'keycloak', 'realm', 'sandbox-realm.json');
export const versionFile = join(repoRoot, 'keycloak', 'version.json');
