// The security suites' tokens: real ones from Keycloak (recorded, so the log-hygiene suite can look for them in the
// service logs) and forged ones (own keys, `alg: none`, HMAC with the realm's public key, tampered payloads).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { runDir } from '@sandbox/stack';
import { decodeClaims, userTokens, type UserTokens } from './keycloak.ts';

export { adminRoot } from './keycloak.ts';
import { stack } from './stack.ts';

// ---- Recording every token a security suite obtains ----------------------------------------------------------

function tokensFile(): string {
  const dir = runDir(stack().name);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'tokens-used.txt');
}

/** Remembers a token (one per line in .run/<name>/tokens-used.txt) and returns it unchanged. */
export function recordToken<T extends string | undefined>(token: T): T {
  if (token) appendFileSync(tokensFile(), `${token}\n`);
  return token;
}

/** Every token recorded in this stack's run. */
export function recordedTokens(): string[] {
  const file = tokensFile();
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** userTokens() from the harness, with access, refresh and ID token recorded. */
export async function trackedUserTokens(username: 'alice' | 'bob', scope: string): Promise<UserTokens> {
  const tokens = await userTokens(username, scope);
  recordToken(tokens.accessToken);
  recordToken(tokens.refreshToken);
  recordToken(tokens.idToken);
  return tokens;
}

export async function trackedUserToken(username: 'alice' | 'bob', scope: string): Promise<string> {
  return (await trackedUserTokens(username, scope)).accessToken;
}

// ---- Password grants at any realm -------------------------------------------------------------------------------

/** A password grant at any realm's token endpoint (the client must allow it); the tokens are recorded. */
export async function passwordGrant(
  realm: string,
  clientId: string,
  username: string,
  password: string,
  scope = 'openid',
): Promise<{ access_token: string; refresh_token?: string; id_token?: string; scope?: string }> {
  const response = await fetch(`${stack().urls.keycloak}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password, scope }),
  });
  if (!response.ok)
    throw new Error(`password grant at ${realm}/${clientId} failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as {
    access_token: string;
    refresh_token?: string;
    id_token?: string;
    scope?: string;
  };
  recordToken(body.access_token);
  recordToken(body.refresh_token);
  recordToken(body.id_token);
  return body;
}

// ---- Forging ------------------------------------------------------------------------------------------------

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export interface Forger {
  /** RS256 with a key the realm never published. */
  sign(claims: JWTPayload, header?: { kid?: string; typ?: string }): Promise<string>;
  publicJwk(): Promise<Record<string, unknown>>;
}

/** Forged tokens for the refusal tests: own keys, `alg: none`, HMAC with the realm's public key, tampered payloads. */
export async function createForger(): Promise<Forger> {
  const { privateKey, publicKey } = (await generateKeyPair('RS256', { extractable: true })) as {
    privateKey: CryptoKey;
    publicKey: CryptoKey;
  };
  return {
    async sign(claims, header = {}) {
      return recordToken(
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', typ: header.typ ?? 'JWT', ...(header.kid ? { kid: header.kid } : {}) })
          .sign(privateKey),
      );
    },
    async publicJwk() {
      return exportJWK(publicKey) as unknown as Record<string, unknown>;
    },
  };
}

/** Claims of a plausible sandbox access token for alice (valid issuer, audience, 5 minutes), to be altered per case. */
export function plausibleClaims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: stack().urls.issuer,
    aud: [stack().urls.mcp],
    sub: randomUUID(),
    typ: 'Bearer',
    azp: 'e2e-forger',
    scope: 'mcp:tools portfolio:read trade:read trade:write',
    preferred_username: 'alice',
    iat: now,
    exp: now + 300,
    jti: randomUUID(),
    ...overrides,
  };
}

/** An unsigned token (`alg: none`, empty signature). */
export function unsignedToken(claims: JWTPayload): string {
  return recordToken(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`);
}

/** The realm's JWKS (what the MCP server trusts). */
export async function realmJwks(): Promise<Array<Record<string, string>>> {
  const response = await fetch(`${stack().urls.issuer}/protocol/openid-connect/certs`);
  return ((await response.json()) as { keys: Array<Record<string, string>> }).keys;
}

/** HS256 signed with the realm's RSA public key (PEM text) as the HMAC secret: the classic algorithm-confusion attack. */
export async function hmacWithRealmPublicKey(claims: JWTPayload): Promise<string> {
  const rsa = (await realmJwks()).find((k) => k.kty === 'RSA' && k.use !== 'enc');
  if (!rsa) throw new Error('the realm publishes no RSA signing key');
  const pem = createPublicKey({ key: rsa as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })
    .sign(new TextEncoder().encode(pem));
  return recordToken(token);
}

/** A real token with its payload replaced (claims merged) and its original header and signature kept. */
export function tamperPayload(token: string, changes: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return recordToken(`${header}.${b64({ ...decodeClaims(token), ...changes })}.${signature}`);
}

/** A real token with its header replaced and its original payload and signature kept. */
export function tamperHeader(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(header as string, 'base64url').toString()) as Record<string, unknown>;
  return recordToken(`${b64({ ...decoded, ...changes })}.${payload}.${signature}`);
}
