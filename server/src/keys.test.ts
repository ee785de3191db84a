import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subkey } from './keys.ts';

describe('subkey', () => {
  const key = Buffer.from('c3'.repeat(32), 'hex');

  it('gives each purpose its own 32-byte key, the same on every replica given the same STATE_KEY', () => {
    const state = subkey(key, 'mcp-request-state');
    const cookie = subkey(key, 'explorer-session');
    assert.match(state, /^[0-9a-f]{64}$/);
    assert.notEqual(state, cookie);
    assert.equal(subkey(Buffer.from(key), 'mcp-request-state'), state);
    assert.notEqual(subkey(Buffer.from('c4'.repeat(32), 'hex'), 'mcp-request-state'), state);
  });
});
