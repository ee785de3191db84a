// Where the stack keeps things: the repository root and per-run state (the download cache is in settings.ts).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** State of one running stack (pids, logs, Keycloak home copy). `make up` uses the name "up"; e2e runs use their own. */
export function runDir(name: string): string {
  return join(repoRoot, '.run', name);
}

export const realmFile = join(repoRoot, 'keycloak', 'realm', 'sandbox-realm.json');
export const versionFile = join(repoRoot, 'keycloak', 'version.json');
