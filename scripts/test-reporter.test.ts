// The counts reporter, run on real node:test files: every test counted once, a skipped suite never counted as zero.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

function counts(source: string): { passed: number; failed: number; skipped: number } {
  const dir = mkdtempSync(join(tmpdir(), 'reporter-'));
  try {
    writeFileSync(join(dir, 'sample.test.mjs'), source);
    spawnSync(
      process.execPath,
      [
        '--test',
        `--test-reporter=${join(import.meta.dirname, 'test-reporter.ts')}`,
        `--test-reporter-destination=${join(dir, 'counts.json')}`,
        join(dir, 'sample.test.mjs'),
      ],
      // An empty environment: inherited, NODE_TEST_CONTEXT would make the child report to this runner instead.
      { encoding: 'utf8', env: {} },
    );
    return JSON.parse(readFileSync(join(dir, 'counts.json'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('test reporter counts', () => {
  it('counts passes, failures and skips of tests, not of the suites around them', () => {
    assert.deepEqual(
      counts(`import { describe, it } from 'node:test';
describe('s', () => { it('a', () => {}); it('b', () => { throw new Error('x'); }); it('c', { skip: 'why' }, () => {}); it('d', { todo: true }, () => {}); });`),
      { passed: 1, failed: 1, skipped: 2 },
    );
  });

  it('counts a skipped suite (whose body node:test never runs) as skipped, not as nothing', () => {
    assert.deepEqual(
      counts(`import { describe, it } from 'node:test';
describe('s', { skip: 'no engine' }, () => { it('a', () => {}); it('b', () => {}); });
it('c', () => {});`),
      { passed: 1, failed: 0, skipped: 1 },
    );
  });

  it('counts each test of a suite skipped through e2e/src/harness/skippable.ts', () => {
    const helper = join(import.meta.dirname, '..', 'e2e', 'src', 'harness', 'skippable.ts');
    assert.deepEqual(
      counts(`import { describe } from 'node:test';
import { skippable } from ${JSON.stringify(helper)};
describe('s', () => { const { it, before } = skippable('no engine'); before(() => { throw new Error('hooks must not run'); }); it('a', () => {}); it('b', () => {}); it('c', () => {}); });`),
      { passed: 0, failed: 0, skipped: 3 },
    );
  });
});
