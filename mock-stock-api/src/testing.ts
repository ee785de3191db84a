// Test fixtures: local signing keys, exchanged-token claims, a frozen clock, a blocked network.
import { mock } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { LogEntry } from './log.ts';

export const ISSUER = 'http://localhost:8080/realms/sandbox';
export const NOW = new Date('2026-01-15T12:00:00Z');
export const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
export const ALICE = '5f0c3a52-8a3e-4c7e-9a53-1b1f6f0b2d11';
export const BOB = 'c2d7e1f4-3b6a-4f0e-8d2c-9e5a7b3c1f22';
export const KID = 'test-rs256';

export type Signer = {
  keys: JWTVerifyGetKey;
  sign(claims?: JWTPayload, header?: Record<string, unknown>): Promise<string>;
};

/** A fresh RSA key pair; `keys` resolves only its public key (kid KID unless given). */
export async function createSigner(kid = KID): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    keys: createLocalJWKSet({ keys: [jwk] }),
    sign: (claims, header) => signWith(privateKey, kid, claims, header),
  };
}

function signWith(
  key: CryptoKey,
  kid: string,
  claims: JWTPayload = exchangedClaims(),
  header: Record<string, unknown> = {},
) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...header }).sign(key);
}

/** Claims of a Keycloak token obtained by the MCP server through token exchange for stock-api. */
export function exchangedClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    aud: 'stock-api',
    azp: 'http://localhost:3000/mcp',
    typ: 'Bearer',
    sub: ALICE,
    preferred_username: 'alice',
    scope: 'profile portfolio:read trade:read trade:write',
    jti: 'jti-0001',
    iat: NOW_SECONDS - 10,
    exp: NOW_SECONDS + 300,
    ...overrides,
  };
}

/** The user's own token to the MCP server (what a confused deputy would forward). */
export function mcpClientClaims(overrides: JWTPayload = {}): JWTPayload {
  return exchangedClaims({
    aud: 'http://localhost:3000/mcp',
    azp: 'mcp-cli',
    scope: 'openid mcp:tools',
    ...overrides,
  });
}

/** An unsigned `alg: none` token. */
export function unsignedToken(claims: JWTPayload = exchangedClaims()): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** An app on a frozen clock with local keys; `logs` collects log entries. */
export function createTestApp(keys: JWTVerifyGetKey) {
  const logs: LogEntry[] = [];
  const app = createApp({ config: loadConfig({}), keys, now: () => NOW, log: (entry) => logs.push(entry) });
  return { app, logs };
}

/** Makes any fetch in this process fail loudly. */
export function blockNetwork(): void {
  mock.method(globalThis, 'fetch', async () => {
    throw new Error('network is blocked in unit tests');
  });
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
