import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StackError } from './errors.ts';
import { hasProgram, missingTools, requireTools } from './tools.ts';

describe('tool checks', () => {
  it('names a missing tool with what it is for and the command that installs it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
    try {
      const lines = missingTools(['wrk', 'debootstrap'], empty);
      assert.equal(lines.length, 2);
      assert.match(lines[0] ?? '', /^wrk is not installed \(.*bench.*\): install it with `apt-get install wrk`/);
      assert.match(lines[1] ?? '', /^debootstrap is not installed .*`apt-get install debootstrap`/);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });

  it('finds a program on the given PATH, and checks a path given instead of a name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tools-'));
    try {
      const program = join(dir, 'wrk');
      writeFileSync(program, '#!/bin/sh\n');
      chmodSync(program, 0o755);
      assert.deepEqual(missingTools(['wrk'], dir), []);
      assert.equal(hasProgram(program), true);
      assert.equal(hasProgram(join(dir, 'chromium')), false);
      assert.match(
        missingTools([['chromium', join(dir, 'chromium')]], dir)[0] ?? '',
        /^chromium \(.*\/chromium\) is not installed .*CHROMIUM_PATH/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('throws a missing_tool error listing every missing tool', () => {
    assert.throws(
      () =>
        requireTools([
          ['wrk', '/nonexistent/wrk'],
          ['docker', '/nonexistent/docker'],
        ]),
      (error: unknown) =>
        error instanceof StackError &&
        error.code === 'missing_tool' &&
        /wrk/.test(error.message) &&
        /docker/.test(error.message) &&
        /install-docker\.sh/.test(error.message),
    );
  });
});
