import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { checkPrivateKeys, checkStateKey } from './doctor-files.ts';

describe('make doctor on the checkout: private keys in .run/tls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'client-docs.key');
  writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nx\n');
  writeFileSync(join(dir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nx\n');
  chmodSync(join(dir, 'ca.crt'), 0o644);

  it('finds nothing when every key is owner-only (certificates may be world-readable)', () => {
    chmodSync(key, 0o600);
    assert.deepEqual(checkPrivateKeys(dir), []);
    assert.deepEqual(checkPrivateKeys(join(dir, 'absent')), []);
  });

  for (const mode of [0o644, 0o640, 0o604, 0o660])
    it(`flags a key with mode ${mode.toString(8)}, and its fix makes it owner-only`, () => {
      chmodSync(key, mode);
      const findings = checkPrivateKeys(dir);
      assert.equal(findings.length, 1);
      const [finding] = findings;
      assert.equal(finding?.id, 'tls-key-mode');
      assert.match(finding?.problem ?? '', new RegExp(`client-docs\\.key .*mode ${mode.toString(8)}`));
      assert.match(finding?.fix ?? '', /^chmod 600 /);
      const command = (finding?.fix ?? '').split('   ')[0] ?? '';
      assert.equal(spawnSync('sh', ['-c', command]).status, 0, command);
      assert.equal(statSync(key).mode & 0o777, 0o600);
      assert.deepEqual(checkPrivateKeys(dir), []);
    });
});

describe('make doctor on the checkout: the state key in .run/secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'doctor-secrets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds nothing without a key or with an owner-only one, and flags a readable one with a fix that works', () => {
    assert.deepEqual(checkStateKey(dir), []);
    const key = join(dir, 'state-key');
    writeFileSync(key, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    assert.deepEqual(checkStateKey(dir), []);
    chmodSync(key, 0o644);
    const [finding] = checkStateKey(dir);
    assert.equal(finding?.id, 'state-key-mode');
    assert.match(finding?.problem ?? '', /mode 644/);
    const command = (finding?.fix ?? '').split('   ')[0] ?? '';
    assert.equal(spawnSync('sh', ['-c', command]).status, 0, command);
    assert.deepEqual(checkStateKey(dir), []);
  });
});
