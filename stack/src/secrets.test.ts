// The generated state key: random, kept, owner-only.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import {
  ensureMachineCredentials,
  ensureStateKey,
  machineClientEnv,
  mintWorkloadToken,
  WORKLOAD_ISSUER,
} from './secrets.ts';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'sandbox-secrets-')), 'secrets');

describe('ensureStateKey', () => {
  it('makes a 32-byte random key, owner-only, and returns the same one on later calls', () => {
    const dir = fresh();
    const key = ensureStateKey(dir);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(ensureStateKey(dir), key);
    assert.equal(statSync(join(dir, 'state-key')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.notEqual(ensureStateKey(fresh()), key, 'two checkouts must not share a key');
  });

  it('narrows a key file some other step made world-readable', () => {
    const dir = fresh();
    ensureStateKey(dir);
    chmodSync(join(dir, 'state-key'), 0o644);
    ensureStateKey(dir);
    assert.equal(statSync(join(dir, 'state-key')).mode & 0o777, 0o600);
  });

  it('replaces a malformed key instead of using it', () => {
    const dir = fresh();
    ensureStateKey(dir);
    writeFileSync(join(dir, 'state-key'), 'sandbox-mcp-server-secret\n');
    const key = ensureStateKey(dir);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(readFileSync(join(dir, 'state-key'), 'utf8').trim(), key);
  });
});

describe('ensureMachineCredentials', () => {
  it('makes a random client secret and an RSA key pair, owner-only, kept across calls, different per checkout', () => {
    const dir = fresh();
    const made = ensureMachineCredentials(dir);
    assert.match(made.secret, /^[0-9a-f]{64}$/);
    assert.equal(createPrivateKey(made.privateKeyPem).asymmetricKeyType, 'rsa');
    const spki = createPublicKey({ key: Buffer.from(made.publicKeySpki, 'base64'), format: 'der', type: 'spki' });
    assert.equal(
      spki.export({ format: 'jwk' }).n,
      createPublicKey(made.privateKeyPem).export({ format: 'jwk' }).n,
      "the public key is the private key's",
    );
    assert.deepEqual(ensureMachineCredentials(dir), made);
    for (const file of ['bot-secret', 'bot-key.pem']) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    const other = ensureMachineCredentials(fresh());
    assert.notEqual(other.secret, made.secret);
    assert.notEqual(other.publicKeySpki, made.publicKeySpki);
    assert.notEqual(made.workload.publicKeySpki, made.publicKeySpki, 'the workload issuer has its own key');
    assert.equal(statSync(join(dir, 'workload-issuer-key.pem')).mode & 0o777, 0o600);
    assert.deepEqual(Object.keys(machineClientEnv(made)).sort(), [
      'SANDBOX_BOT_KID',
      'SANDBOX_BOT_PUBLIC_KEY',
      'SANDBOX_BOT_SECRET',
      'SANDBOX_WORKLOAD_KID',
      'SANDBOX_WORKLOAD_PUBLIC_KEY',
    ]);
  });

  it('replaces a malformed secret or key, and narrows a widened file', () => {
    const dir = fresh();
    const made = ensureMachineCredentials(dir);
    writeFileSync(join(dir, 'bot-secret'), 'sandbox-mcp-server-secret\n');
    writeFileSync(join(dir, 'bot-key.pem'), 'not a key');
    chmodSync(join(dir, 'bot-key.pem'), 0o644);
    const again = ensureMachineCredentials(dir);
    assert.match(again.secret, /^[0-9a-f]{64}$/);
    assert.notEqual(again.secret, made.secret);
    assert.notEqual(again.publicKeySpki, made.publicKeySpki);
    assert.equal(statSync(join(dir, 'bot-key.pem')).mode & 0o777, 0o600);
  });
});

describe('mintWorkloadToken', () => {
  it('signs a short-lived JWT as the local workload issuer, for the given audience, with a fresh jti', async () => {
    const credentials = ensureMachineCredentials(fresh());
    const token = await mintWorkloadToken('http://localhost:8080/realms/sandbox', { credentials });
    const key = createPublicKey({
      key: Buffer.from(credentials.workload.publicKeySpki, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const { payload, protectedHeader } = await jwtVerify(token, key, {
      issuer: WORKLOAD_ISSUER.issuer,
      audience: 'http://localhost:8080/realms/sandbox',
      subject: WORKLOAD_ISSUER.subject,
    });
    assert.equal(protectedHeader.kid, credentials.workload.kid);
    assert.ok((payload.exp ?? 0) - (payload.iat ?? 0) <= 300, "within Keycloak's 300 s assertion age");
    const again = await mintWorkloadToken('http://localhost:8080/realms/sandbox', { credentials });
    assert.notEqual(decodeJwt(again).jti, payload.jti);
  });
});
