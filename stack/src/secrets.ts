// Secrets the sandbox generates, never derives: the MCP server's state key (it signs the URL-elicitation
// `requestState` and the explorer's session cookie). Made once per checkout with 32 random bytes into
// .run/secrets/ (directory 0700, file 0600, like ssh keys), and handed to every replica of the server: native
// processes and compose services get it in their environment (a file mounted into a container would be unreadable
// by its non-root user). A key derived from a value the project publishes (the client secret) let anyone forge a
// state; see docs/security.md.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';
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

/** The pre-registered machine clients (keycloak/README.md, "Machine clients"; docs/client-credentials.md). */
export const MACHINE_CLIENTS = Object.freeze({
  /** client_credentials with a client secret (client_secret_basic or client_secret_post). */
  secret: 'sandbox-bot',
  /** client_credentials with private_key_jwt (RFC 7523 client assertion signed RS256 with the generated key). */
  jwt: 'sandbox-bot-jwt',
  /** client_credentials authenticated by a workload's JWT from the local workload issuer (federated client auth). */
  workload: 'sandbox-workload',
});

/**
 * The local workload issuer: it plays a Kubernetes service-account issuer (a kubelet's projected token), so a workload
 * proves who it is with a short-lived JWT this issuer signed, and holds no secret of the realm's. The realm trusts
 * exactly this issuer and key (identity provider `workload-issuer`) for exactly this subject (client
 * `sandbox-workload`). docs/client-credentials.md, "Workload identity".
 */
export const WORKLOAD_ISSUER = Object.freeze({
  issuer: 'https://workload-issuer.sandbox.invalid',
  subject: 'system:serviceaccount:ci:sandbox-workload',
});

export interface MachineCredentials {
  /** The local workload issuer's signing key (PKCS#8 PEM), its public key (base64 SPKI) and key id. */
  workload: { privateKeyPem: string; publicKeySpki: string; kid: string };
  /** sandbox-bot's client secret: 64 hex characters, generated. */
  secret: string;
  /** sandbox-bot-jwt's private key (PKCS#8 PEM), generated; only the bot holds it. */
  privateKeyPem: string;
  /** Its public key as base64 DER (SPKI): what the realm's `jwt.credential.public.key` attribute takes. */
  publicKeySpki: string;
  /** The key's id (RFC 7638 thumbprint): the realm's `jwt.credential.kid`, and the assertion's `kid`. */
  kid: string;
}

/**
 * The machine clients' credentials, made once per checkout like the state key: a random client secret and an RSA key
 * pair, owner-only in .run/secrets/. `make up` hands the secret and the public key to Keycloak's realm import (the
 * realm file holds placeholders, never a value), and `make call BOT=…` and the e2e suites read them from here.
 */
export function ensureMachineCredentials(dir: string = SECRETS_DIR): MachineCredentials {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const secretFile = join(dir, 'bot-secret');
  const keyFile = join(dir, 'bot-key.pem');
  let secret = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
  if (!KEY_SHAPE.test(secret)) {
    secret = randomBytes(32).toString('hex');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  }
  if ((statSync(secretFile).mode & 0o077) !== 0) chmodSync(secretFile, 0o600);
  return { secret, ...ensureRsaKey(keyFile), workload: ensureRsaKey(join(dir, 'workload-issuer-key.pem')) };
}

/** An RSA key kept in `file` (made if absent or not an RSA key), owner-only, with its public half and RFC 7638 kid. */
function ensureRsaKey(file: string): { privateKeyPem: string; publicKeySpki: string; kid: string } {
  let privateKeyPem = existsSync(file) ? readFileSync(file, 'utf8') : '';
  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    privateKey = undefined;
  }
  if (privateKey?.asymmetricKeyType !== 'rsa') {
    privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(file, privateKeyPem, { mode: 0o600 });
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
    .digest('base64url');
  return { privateKeyPem, publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), kid };
}

/** The realm placeholders the machine clients need (Keycloak's environment at realm import). */
export function machineClientEnv(credentials: MachineCredentials = ensureMachineCredentials()): Record<string, string> {
  return {
    SANDBOX_BOT_SECRET: credentials.secret,
    SANDBOX_BOT_PUBLIC_KEY: credentials.publicKeySpki,
    SANDBOX_BOT_KID: credentials.kid,
    SANDBOX_WORKLOAD_PUBLIC_KEY: credentials.workload.publicKeySpki,
    SANDBOX_WORKLOAD_KID: credentials.workload.kid,
  };
}

/**
 * A workload's identity token from the local workload issuer, as a kubelet would project it: `iss` the issuer, `sub`
 * the workload, `aud` the realm (the one audience Keycloak's federated client authentication accepts), a `jti`, and a
 * short life. The workload sends it as its client assertion (docs/client-credentials.md).
 *
 *   const jwt = await mintWorkloadToken(issuerUrl); // for http://localhost:8080/realms/sandbox
 */
export async function mintWorkloadToken(
  audience: string,
  options: { lifetimeS?: number; credentials?: MachineCredentials; subject?: string; issuedAt?: number } = {},
): Promise<string> {
  const key = (options.credentials ?? ensureMachineCredentials()).workload;
  const now = options.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(WORKLOAD_ISSUER.issuer)
    .setSubject(options.subject ?? WORKLOAD_ISSUER.subject)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeS ?? 120))
    .setJti(randomBytes(16).toString('hex'))
    .sign(await importPKCS8(key.privateKeyPem, 'RS256'));
}
