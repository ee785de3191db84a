// The generated state key: random, kept, owner-only.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureStateKey } from './secrets.ts';

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
