import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLogger, tokenHash } from './log.ts';

describe('tokenHash', () => {
  it('returns the first 16 hex digits of SHA-256', () => {
    assert.equal(tokenHash('abc'), createHash('sha256').update('abc').digest('hex').slice(0, 16));
    assert.match(tokenHash('eyJhbGciOi.x.y'), /^[0-9a-f]{16}$/);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per event with the fields', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line)).log('info', 'hello', { requestId: 'r1' });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]?.endsWith('\n'));
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(entry.level, 'info');
    assert.equal(entry.msg, 'hello');
    assert.equal(entry.requestId, 'r1');
    assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('drops events below the level and everything when silent', () => {
    const lines: string[] = [];
    const warn = createLogger('warn', (line) => lines.push(line));
    warn.log('info', 'skip');
    warn.log('error', 'keep');
    createLogger('silent', (line) => lines.push(line)).log('error', 'skip');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
      ['keep'],
    );
  });
});
