// Secrets the sandbox generates, never derives: the MCP server's state key (it signs the URL-elicitation
// `requestState` and the explorer's session cookie). Made once per checkout with 32 random bytes into
// .run/secrets/ (directory 0700, file 0600, like ssh keys), and handed to every replica of the server: native
// processes and compose services get it in their environment (a file mounted into a container would be unreadable
// by its non-root user). A key derived from a value the project publishes (the client secret) let anyone forge a
// state; see docs/security.md.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export const SECRETS_DIR = join(repoRoot, '.run', 'secrets');

/** 64 hex characters: what the server's STATE_KEY accepts. */
const KEY_SHAPE = /^[0-9a-f]{64}$/;

/**
 * The state key, made if absent or malformed; owner-only modes are restored if something widened them.
 *
 *   ensureStateKey() // '3f9c…' (64 hex), the same on every call in this checkout
 */
export function ensureStateKey(dir: string = SECRETS_DIR): string {
  const file = join(dir, 'state-key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (KEY_SHAPE.test(key)) {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return key;
    }
  }
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
