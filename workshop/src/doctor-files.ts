// The checkout's half of `make doctor`: files the sandbox writes that must stay private. The local CA's directory
// (.run/tls) holds client-docs' private key; whoever can read it can serve Client ID Metadata Documents under the one
// host name Keycloak trusts (keycloak/README.md, "CIMD").
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { exposedPrivateKeys, PRIVATE_KEY_MODE, repoRoot, SECRETS_DIR, TLS_DIR } from '@sandbox/stack';
import type { Finding } from './doctor.ts';

const octal = (mode: number) => mode.toString(8).padStart(3, '0');
const shellQuote = (path: string) => (/^[\w./+-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`);

/** One finding per private key in `dir` that group or others may read (or write), with the chmod that fixes it. */
export function checkPrivateKeys(dir: string = TLS_DIR): Finding[] {
  return exposedPrivateKeys(dir).map(({ file, mode }) => {
    const shown = relative(repoRoot, file).startsWith('..') ? file : relative(repoRoot, file);
    return {
      id: 'tls-key-mode',
      problem: `The private key ${shown} is readable by group or others (mode ${octal(mode)}): any local user can copy it and serve documents Keycloak trusts as client-docs.`,
      fix: `chmod ${octal(PRIVATE_KEY_MODE)} ${shellQuote(file)}   (make up also restores it)`,
    };
  });
}

/**
 * The MCP server's state key (.run/secrets/state-key) readable by group or others: whoever reads it can sign a
 * requestState (and so change an order after its user approved another) or an explorer cookie.
 */
export function checkStateKey(dir: string = SECRETS_DIR): Finding[] {
  const file = join(dir, 'state-key');
  if (!existsSync(file)) return [];
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  return [
    {
      id: 'state-key-mode',
      problem: `The MCP server's state key ${relative(repoRoot, file)} is readable by group or others (mode ${octal(mode)}): any local user can sign a requestState or an explorer session cookie with it.`,
      fix: `chmod 600 ${shellQuote(file)}   (make up also restores it)`,
    },
  ];
}
