// One configured secret (STATE_KEY), one subkey per purpose (HKDF-SHA-256): a key that signs a requestState can never
// verify an explorer cookie, and neither is ever derived from a value the sandbox publishes (the client secret).
import { hkdfSync } from 'node:crypto';

export type KeyPurpose = 'mcp-request-state' | 'explorer-session' | 'dpop-nonce';

/**
 * The 32-byte subkey of `stateKey` for `purpose`, as hex (what the SDK's requestState codec and hono's signed
 * cookies take).
 *
 *   subkey(config.stateKey, 'explorer-session') // '9b1f…' (64 hex)
 */
export function subkey(stateKey: Buffer, purpose: KeyPurpose): string {
  return Buffer.from(hkdfSync('sha256', stateKey, Buffer.alloc(0), `mcp-keycloak-sandbox/${purpose}`, 32)).toString(
    'hex',
  );
}
