// The shared profile's certificate (stack/src/tls.ts ensureSharedHostTls): signed by the same local CA as client-docs',
// owner-only keys, reused while the host stays the same, a new set when it changes.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StackError } from './errors.ts';
import { CLIENT_DOCS_HOST } from './spec.ts';
import { ensureSandboxTls, ensureSharedHostTls } from './tls.ts';

const modeOf = (file: string) => statSync(file).mode & 0o777;
const cert = (file: string) => new X509Certificate(readFileSync(file));

describe('the shared host certificate (stack/src/tls.ts)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sandbox-shared-tls-'));
  const dir = join(root, 'tls');
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is signed by the local CA that signs client-docs, names only the host, and keeps its key owner-only', () => {
    const tls = ensureSharedHostTls('sandbox.localhost', dir);
    const ca = cert(tls.caCert);
    const leaf = cert(tls.sharedCert);
    assert.ok(leaf.verify(ca.publicKey), 'the CA did not sign the shared certificate');
    assert.ok(cert(tls.cert).verify(ca.publicKey), "the same CA signs client-docs' certificate");
    assert.equal(leaf.subjectAltName, 'DNS:sandbox.localhost');
    assert.equal(cert(tls.cert).subjectAltName, `DNS:${CLIENT_DOCS_HOST}`);
    assert.equal(modeOf(tls.sharedKey), 0o600);
    assert.equal(modeOf(tls.sharedPem), 0o600, 'the combined file haproxy reads holds the key');
    const pem = readFileSync(tls.sharedPem, 'utf8');
    assert.ok(pem.includes(readFileSync(tls.sharedCert, 'utf8')) && pem.includes('PRIVATE KEY-----'));
    assert.throws(() => statSync(join(dir, 'ca.key')), /ENOENT/, 'the CA keeps no key');
  });

  it('is reused for the same host, also after the laptop profile checked the set', () => {
    const first = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const leaf = readFileSync(join(dir, 'shared-host.crt'), 'utf8');
    ensureSandboxTls(dir);
    const again = ensureSharedHostTls('sandbox.localhost', dir);
    assert.equal(readFileSync(again.caCert, 'utf8'), first);
    assert.equal(readFileSync(again.sharedCert, 'utf8'), leaf);
  });

  it('makes a new set (CA included) for another host, since the CA cannot sign again', () => {
    const before = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const tls = ensureSharedHostTls('10.1.2.3', dir);
    assert.notEqual(readFileSync(tls.caCert, 'utf8'), before);
    assert.equal(cert(tls.sharedCert).subjectAltName, 'IP Address:10.1.2.3');
    assert.ok(cert(tls.cert).verify(cert(tls.caCert).publicKey), 'client-docs was signed again by the new CA');
  });

  it('keeps the shared certificate when the laptop profile makes the set again', () => {
    rmSync(join(dir, 'client-docs.crt'));
    const tls = ensureSandboxTls(dir);
    const leaf = cert(join(dir, 'shared-host.crt'));
    assert.ok(leaf.verify(cert(tls.caCert).publicKey));
    assert.equal(leaf.subjectAltName, 'IP Address:10.1.2.3');
  });

  it('refuses a host that is not a plain name', () => {
    for (const bad of ['https://workshop.lan', 'workshop.lan:9443', '', '.lan', 'a b'])
      assert.throws(() => ensureSharedHostTls(bad, dir), StackError, bad);
  });
});
