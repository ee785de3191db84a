// The sandbox's local CA and the certificate of its client-metadata host (client-docs), made with openssl once per
// checkout in .run/tls/. Keycloak trusts the CA (--truststore-paths) to fetch Client ID Metadata Documents over HTTPS
// with no network; nothing else is trusted by it. docker-compose.yml mounts the same directory. Private keys are readable
// by their owner only: with client-docs' key, any local user could serve documents Keycloak trusts.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { repoRoot } from './paths.ts';
import { CLIENT_DOCS_HOST } from './spec.ts';
import { TOOLS } from './tools.ts';

export const TLS_DIR = join(repoRoot, '.run', 'tls');

export interface SandboxTls {
  dir: string;
  /** The local CA's certificate (PEM): what Keycloak and tests trust. */
  caCert: string;
  /** client-docs' certificate and key (PEM), for CLIENT_DOCS_HOST. */
  cert: string;
  key: string;
}

const files = (dir: string): SandboxTls => ({
  dir,
  caCert: join(dir, 'ca.crt'),
  cert: join(dir, 'client-docs.crt'),
  key: join(dir, 'client-docs.key'),
});

/** The mode of every private key the sandbox writes: read and write for the owner, nothing for group and others. */
export const PRIVATE_KEY_MODE = 0o600;

export interface ExposedKey {
  file: string;
  /** The file's permission bits, e.g. 0o644. */
  mode: number;
}

/** Whether `file` holds a private key: named *.key or *.pem with a PEM private-key block. */
function isPrivateKey(file: string): boolean {
  if (file.endsWith('.key')) return true;
  if (!file.endsWith('.pem')) return false;
  try {
    return readFileSync(file, 'utf8').includes('PRIVATE KEY-----');
  } catch {
    return false;
  }
}

/** The private keys in `dir` (not recursive) that group or others may read, write or execute. */
export function exposedPrivateKeys(dir: string = TLS_DIR): ExposedKey[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(dir, entry.name))
    .filter(isPrivateKey)
    .map((file) => ({ file, mode: statSync(file).mode & 0o777 }))
    .filter((key) => (key.mode & 0o077) !== 0)
    .sort((a, b) => a.file.localeCompare(b.file));
}

/** Makes every private key in `dir` owner-only (PRIVATE_KEY_MODE); returns the files it changed. */
export function restrictPrivateKeys(dir: string = TLS_DIR): string[] {
  return exposedPrivateKeys(dir).map(({ file }) => {
    chmodSync(file, PRIVATE_KEY_MODE);
    return file;
  });
}

/**
 * The user docker-compose.yml runs client-docs as (`user: ${SANDBOX_UID}:${SANDBOX_GID}`): the owner of the mounted
 * key, which only its owner may read. Where the platform has no uids, 1000 (the Node image's `node` user).
 */
export function keyOwnerEnv(): { SANDBOX_UID: string; SANDBOX_GID: string } {
  return {
    SANDBOX_UID: String(process.getuid?.() ?? 1000),
    SANDBOX_GID: String(process.getgid?.() ?? 1000),
  };
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error || result.status !== 0)
    throw new StackError(
      'service_failed',
      `openssl ${args[0]} failed: ${result.error?.message ?? result.stderr.trim().slice(-1000)}`,
      result.error
        ? `install openssl, ${TOOLS.openssl.install}: the sandbox makes its local CA with it`
        : `delete ${cwd} and run again; report the error above if it repeats`,
    );
}

/** Whether the certificate is still valid 30 days from now (else it is made again, with a new CA). */
function validForAMonth(file: string): boolean {
  try {
    return Date.parse(new X509Certificate(readFileSync(file)).validTo) > Date.now() + 30 * 86_400_000;
  } catch {
    return false;
  }
}

/**
 * The CA and client-docs' certificate, made if absent, not for CLIENT_DOCS_HOST, or expiring within 30 days (restart
 * the whole stack then: Keycloak reads the CA at start). Idempotent and cheap. Every private key in `dir` ends up
 * owner-only, also one an earlier version left readable by others.
 */
export function ensureSandboxTls(dir: string = TLS_DIR): SandboxTls {
  const tls = files(dir);
  const marker = join(dir, 'host');
  if (existsSync(tls.cert) && existsSync(tls.key) && existsSync(tls.caCert) && existsSync(marker))
    if (readFileSync(marker, 'utf8') === CLIENT_DOCS_HOST && validForAMonth(tls.cert)) {
      restrictPrivateKeys(dir);
      return tls;
    }
  // A set made for the shared profile keeps its host's certificate (ensureSharedHostTls) when it is made again.
  const sharedMarker = join(dir, 'shared-host');
  makeCertificates(dir, existsSync(sharedMarker) ? readFileSync(sharedMarker, 'utf8') : undefined);
  return tls;
}

/**
 * A hosts file for the native Keycloak's JVM (-Djdk.net.hosts.file): CLIENT_DOCS_HOST is 127.0.0.1 there, as it is for
 * browsers and curl (RFC 6761 .localhost); the JVM asks only this file, so it also names localhost and this machine.
 */
export function writeJvmHostsFile(file: string): string {
  writeFileSync(file, `127.0.0.1 localhost ${CLIENT_DOCS_HOST} ${hostname()}\n::1 localhost\n`);
  return file;
}

/**
 * GET `path` from client-docs on 127.0.0.1:`port` over HTTPS, verifying its certificate against the local CA for
 * CLIENT_DOCS_HOST (what Keycloak does); resolves with the status and body. Node's resolver does not know `.localhost`.
 */
export function getFromClientDocs(
  port: number,
  path: string,
  caCert: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, servername: CLIENT_DOCS_HOST, ca: readFileSync(caCert), timeout: 2000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Makes the whole set in `dir` from scratch: a new CA, client-docs' certificate and, when `sharedHost` is given, the
 * shared profile's certificate for that host. The CA's key signs them and is then deleted, so nothing else can ever
 * be signed by this CA; a new certificate therefore always means a new set.
 */
function makeCertificates(dir: string, sharedHost?: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      `/CN=MCP sandbox local CA (${hostname()})`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  chmodSync(join(dir, 'ca.key'), PRIVATE_KEY_MODE); // openssl writes 0600 already; not every build does
  signServerCertificate(dir, 'client-docs', CLIENT_DOCS_HOST);
  if (sharedHost) signServerCertificate(dir, 'shared-host', sharedHost);
  rmSync(join(dir, 'ca.key'));
  writeFileSync(join(dir, 'host'), CLIENT_DOCS_HOST);
  if (sharedHost) writeFileSync(join(dir, 'shared-host'), sharedHost);
}

/** openssl arguments for a new P-256 key without a passphrase. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** `<name>.key` (owner-only) and `<name>.crt` for `host` (a DNS name or an IPv4 address), signed by ca.key in `dir`. */
function signServerCertificate(dir: string, name: string, host: string): void {
  openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${host}`], dir);
  // Owner-only: compose runs the service that reads it as this user (keyOwnerEnv).
  chmodSync(join(dir, `${name}.key`), PRIVATE_KEY_MODE);
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      `subjectAltName=${isIPv4(host) ? 'IP' : 'DNS'}:${host}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '825',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

export interface SharedHostTls extends SandboxTls {
  /** The shared profile's host name, the certificate's only subject alternative name. */
  host: string;
  sharedCert: string;
  sharedKey: string;
  /** Certificate and key in one file (owner-only), the form haproxy's `crt` reads. */
  sharedPem: string;
}

/** Whether `certFile` was signed by the CA in `caFile` (the current set, not one made before it). */
function signedBy(certFile: string, caFile: string): boolean {
  try {
    return new X509Certificate(readFileSync(certFile)).verify(new X509Certificate(readFileSync(caFile)).publicKey);
  } catch {
    return false;
  }
}

/**
 * The certificate of the shared profile's host (docker-compose.shared.yml: the load balancer terminates TLS with it),
 * signed by the sandbox's local CA, so one CA covers client-docs and the shared host. The CA keeps no key (see
 * makeCertificates): the first call for a host, or after the set was made again, makes a new set, CA included. Then
 * restart anything that loaded the old CA (a laptop stack: `make down && make up`) and have attendees trust the new
 * `ca.crt`. Later calls for the same host reuse it. Keys end up owner-only (PRIVATE_KEY_MODE).
 */
export function ensureSharedHostTls(host: string, dir: string = TLS_DIR): SharedHostTls {
  if (!/^[A-Za-z0-9.-]+$/.test(host) || host.startsWith('.') || host.endsWith('.'))
    throw new StackError(
      'bad_config',
      `SANDBOX_HOST "${host}" is not a host name or IPv4 address`,
      'set SANDBOX_HOST to a name such as workshop.lan or sandbox.localhost (no scheme, no port)',
    );
  const shared = {
    ...files(dir),
    host,
    sharedCert: join(dir, 'shared-host.crt'),
    sharedKey: join(dir, 'shared-host.key'),
    sharedPem: join(dir, 'shared-host.pem'),
  };
  ensureSandboxTls(dir);
  const marker = join(dir, 'shared-host');
  const current =
    existsSync(marker) &&
    readFileSync(marker, 'utf8') === host &&
    existsSync(shared.sharedKey) &&
    validForAMonth(shared.sharedCert) &&
    signedBy(shared.sharedCert, shared.caCert);
  if (!current) makeCertificates(dir, host);
  writeFileSync(
    shared.sharedPem,
    `${readFileSync(shared.sharedCert, 'utf8')}${readFileSync(shared.sharedKey, 'utf8')}`,
    {
      mode: PRIVATE_KEY_MODE,
    },
  );
  restrictPrivateKeys(dir);
  return shared;
}
