import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLIENT_DOCS_HOST } from './spec.ts';
import { ensureSandboxTls, getFromClientDocs, writeJvmHostsFile } from './tls.ts';

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
    assert.equal(statSync(tls.key).mode & 0o777, 0o644, 'containers (uid 1000) must read the key');
    assert.throws(() => statSync(join(dir, 'ca.key')), /ENOENT/);
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

  it('writes a JVM hosts file that maps the document host and localhost to loopback', () => {
    const file = writeJvmHostsFile(join(dir, 'hosts'));
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`^127\\.0\\.0\\.1 localhost ${CLIENT_DOCS_HOST.replace('.', '\\.')} `, 'm'),
    );
  });
});
