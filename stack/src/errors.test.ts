// Every launcher failure reaches the terminal as the message, then one `fix:` line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StackError } from './errors.ts';

describe('StackError', () => {
  it('keeps the code, the fix and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new StackError('download_failed', 'Could not download Keycloak', 'check network access', { cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'StackError');
    assert.equal(error.code, 'download_failed');
    assert.equal(error.fix, 'check network access');
    assert.equal(error.cause, cause);
  });

  describe('toUserString', () => {
    it('prints the message, then a fix: line', () => {
      const error = new StackError(
        'port_taken',
        'Port 8080 (keycloak) is already in use on 127.0.0.1',
        'run `make down` first',
      );
      assert.equal(
        error.toUserString(),
        'Port 8080 (keycloak) is already in use on 127.0.0.1\n  fix: run `make down` first',
      );
    });

    it('keeps a multi-line message whole and puts the fix last', () => {
      const error = new StackError(
        'service_failed',
        'keycloak exited.\n--- last log lines ---\nboom',
        'read the log above',
      );
      const lines = error.toUserString().split('\n');
      assert.deepEqual(lines, ['keycloak exited.', '--- last log lines ---', 'boom', '  fix: read the log above']);
    });
  });
});
