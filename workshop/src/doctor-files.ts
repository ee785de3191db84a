// The checkout's half of `make doctor`: files the sandbox writes that must stay private. The local CA's directory
// (.run/tls) holds client-docs' private key; whoever can read it can serve Client ID Metadata Documents under the one
// host name Keycloak trusts (keycloak/README.md, "CIMD").
import { relative } from 'node:path';
import { exposedPrivateKeys, PRIVATE_KEY_MODE, repoRoot, TLS_DIR } from '@sandbox/stack';
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
