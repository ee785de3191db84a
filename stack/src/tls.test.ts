import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLIENT_DOCS_HOST } from './spec.ts';
import {
  ensureSandboxTls,
  exposedPrivateKeys,
  getFromClientDocs,
  keyOwnerEnv,
  restrictPrivateKeys,
  writeJvmHostsFile,
} from './tls.ts';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('the local CA (stack/src/tls.ts)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sandbox-tls-')), 'tls');
  after(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('makes a CA and a certificate for client-docs.localhost that the CA signed, and keeps no CA key', () => {
    const tls = ensureSandboxTls(dir);
    const ca = new X509Certificate(readFileSync(tls.caCert));
    const leaf = new X509Certificate(readFileSync(tls.cert));
    assert.ok(ca.ca, 'the CA certificate is not a CA');
    assert.ok(leaf.verify(ca.publicKey), 'the CA did not sign the certificate');
    assert.equal(leaf.subjectAltName, `DNS:${CLIENT_DOCS_HOST}`);
    assert.equal(leaf.checkHost(CLIENT_DOCS_HOST), CLIENT_DOCS_HOST);
    assert.equal(leaf.checkHost('localhost'), undefined, 'the certificate must name only the document host');
    assert.equal(modeOf(tls.key), 0o600, 'only its owner may read the private key');
    assert.throws(() => statSync(join(dir, 'ca.key')), /ENOENT/);
    assert.equal(modeOf(tls.caCert), 0o644, 'Keycloak (uid 1000 in compose) must read the CA certificate');
    assert.equal(modeOf(tls.cert), 0o644);
  });

  it('makes a key an earlier version left readable by others owner-only again on the next run', () => {
    const tls = ensureSandboxTls(dir);
    const before = readFileSync(tls.caCert, 'utf8');
    chmodSync(tls.key, 0o644);
    writeFileSync(join(dir, 'ca.key'), '-----BEGIN PRIVATE KEY-----\n', { mode: 0o640 });
    try {
      ensureSandboxTls(dir);
      assert.equal(modeOf(tls.key), 0o600);
      assert.equal(modeOf(join(dir, 'ca.key')), 0o600);
      assert.equal(readFileSync(tls.caCert, 'utf8'), before, 'fixing the modes must not make a new CA');
    } finally {
      rmSync(join(dir, 'ca.key'), { force: true });
    }
  });

  it('is idempotent: a second call keeps the same CA', () => {
    const before = readFileSync(join(dir, 'ca.crt'), 'utf8');
    ensureSandboxTls(dir);
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), before);
  });

  it('serves HTTPS that verifies with the CA under the host name, and fails without it', async () => {
    const tls = ensureSandboxTls(dir);
    const server = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.deepEqual(await getFromClientDocs(port, '/', tls.caCert), { status: 200, body: 'ok' });
      await assert.rejects(getFromClientDocs(port, '/', '/dev/null'), /certificate|self.signed|unable/i);
    } finally {
      server.close();
    }
  });

  it('finds private keys that group or others can read, and only those', () => {
    const keys = join(mkdtempSync(join(tmpdir(), 'sandbox-keys-')), 'tls');
    try {
      ensureSandboxTls(keys);
      assert.deepEqual(exposedPrivateKeys(keys), []);
      chmodSync(join(keys, 'client-docs.key'), 0o604);
      writeFileSync(join(keys, 'extra.pem'), '-----BEGIN EC PRIVATE KEY-----\nx\n', { mode: 0o660 });
      writeFileSync(join(keys, 'chain.pem'), '-----BEGIN CERTIFICATE-----\nx\n', { mode: 0o644 });
      chmodSync(join(keys, 'extra.pem'), 0o660);
      assert.deepEqual(exposedPrivateKeys(keys), [
        { file: join(keys, 'client-docs.key'), mode: 0o604 },
        { file: join(keys, 'extra.pem'), mode: 0o660 },
      ]);
      assert.deepEqual(restrictPrivateKeys(keys), [join(keys, 'client-docs.key'), join(keys, 'extra.pem')]);
      assert.deepEqual(exposedPrivateKeys(keys), []);
      assert.equal(modeOf(join(keys, 'chain.pem')), 0o644, 'a certificate is left as it is');
      assert.deepEqual(exposedPrivateKeys(join(keys, 'absent')), []);
    } finally {
      rmSync(join(keys, '..'), { recursive: true, force: true });
    }
  });

  it('names the key owner for compose, which runs client-docs as that user', () => {
    assert.deepEqual(keyOwnerEnv(), {
      SANDBOX_UID: String(process.getuid?.()),
      SANDBOX_GID: String(process.getgid?.()),
    });
  });

  it('writes a JVM hosts file that maps the document host and localhost to loopback', () => {
    const file = writeJvmHostsFile(join(dir, 'hosts'));
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`^127\\.0\\.0\\.1 localhost ${CLIENT_DOCS_HOST.replace('.', '\\.')} `, 'm'),
    );
  });
});
