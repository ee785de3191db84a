// Forged tokens, only for the checks that are about refusing forgeries: `alg: none`, HS256 keyed with the realm's
// RSA public key (algorithm confusion), RS256 by a key the realm never published (under the realm's own kid), and
// a real token with its payload changed. Claims are copied from a real token, so only the forgery is wrong.
import { createPublicKey, randomUUID } from 'node:crypto';
import { decodeJwt, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The realm's RSA signing key (JWK), from its JWKS. */
export async function realmSigningKey(issuer: string): Promise<Record<string, string>> {
  const response = await fetch(`${issuer}/protocol/openid-connect/certs`);
  if (!response.ok) throw new Error(`the realm's JWKS at ${issuer} answered ${response.status}`);
  const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
  const rsa = keys.find((k) => k.kty === 'RSA' && k.use !== 'enc' && (!k.alg || k.alg === 'RS256'));
  if (!rsa) throw new Error(`the realm at ${issuer} publishes no RS256 signing key`);
  return rsa;
}

/** A real token's claims with a fresh jti and lifetime: what a forger would copy. */
export function copiedClaims(realToken: string): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { ...decodeJwt(realToken), jti: randomUUID(), iat: now, exp: now + 300 };
}

/** `alg: none`, empty signature (RFC 7519 §6 unsecured JWT). */
export function unsignedToken(claims: JWTPayload): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

/** HS256 with the realm's RSA public key (PEM text) as the HMAC secret, under the realm key's kid. */
export async function algorithmConfusionToken(claims: JWTPayload, rsa: Record<string, string>): Promise<string> {
  const pem = createPublicKey({ key: rsa as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })
    .sign(new TextEncoder().encode(pem));
}

/** RS256 signed by a fresh key the realm never published, claiming the realm key's kid. */
export async function unknownKeyToken(claims: JWTPayload, kid: string | undefined): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(kid ? { kid } : {}) }).sign(privateKey);
}

/** A real token with claims changed in its payload, header and signature kept. */
export function tamperedToken(realToken: string, changes: Record<string, unknown>): string {
  const [header, , signature] = realToken.split('.');
  return `${header}.${b64({ ...decodeJwt(realToken), ...changes })}.${signature}`;
}
