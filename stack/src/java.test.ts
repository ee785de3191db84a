// Finding a Java for Keycloak: a missing or too-old Java gets one java_missing error listing what was tried.
// Fake `java` scripts in a temp dir stand in for JDKs, so nothing depends on (or touches) the machine's own.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StackError } from './errors.ts';
import { findJava, javaMajor, parseMajor } from './java.ts';

const NOWHERE = { JAVA: '/nonexistent/java', PATH: '/nonexistent' };
const SYSTEM_JAVA_17 = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';

let tmp: string;
let emptyJvmDir: string;

/** Writes `<dir>/java` that prints a `java -version` banner to stderr, as real ones do. */
function fakeJava(dir: string, version: string, exitCode = 0): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'java');
  writeFileSync(path, `#!/bin/sh\necho 'openjdk version "${version}" 2025-01-21' >&2\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return path;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'java-test-'));
  emptyJvmDir = join(tmp, 'empty-jvm');
  mkdirSync(emptyJvmDir);
});
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('parseMajor', () => {
  it('reads 17 from a modern version string', () => {
    assert.equal(parseMajor('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment'), 17);
  });

  it('reads 8 from the legacy 1.x scheme', () => {
    assert.equal(parseMajor('openjdk version "1.8.0_402"'), 8);
  });

  it('reads 25 from a version with no minor part', () => {
    assert.equal(parseMajor('openjdk version "25" 2025-09-16'), 25);
  });

  it('returns undefined for output with no version', () => {
    assert.equal(parseMajor('Error: could not find libjava.so'), undefined);
  });
});

describe('javaMajor', () => {
  it('parses the banner a java prints to stderr', () => {
    assert.equal(javaMajor(fakeJava(join(tmp, 'banner'), '21.0.2')), 21);
  });

  it('returns undefined for a path that does not exist', () => {
    assert.equal(javaMajor('/nonexistent/java'), undefined);
  });

  it('returns undefined for a java that exits non-zero', () => {
    assert.equal(javaMajor(fakeJava(join(tmp, 'broken'), '21.0.2', 1)), undefined);
  });
});

describe('findJava', () => {
  it('throws java_missing listing every place it tried and how to fix it', () => {
    assert.throws(
      () => findJava(NOWHERE, { jvmDir: emptyJvmDir }),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'java_missing');
        assert.match(error.message, /^No Java 17 or newer found for Keycloak\. Tried: /);
        assert.ok(error.message.includes('/nonexistent/java ($JAVA): not runnable'), error.message);
        assert.ok(error.message.includes('java (PATH): not runnable'), error.message);
        assert.match(error.fix, /install a JDK 17/);
        assert.match(error.fix, /JAVA_HOME/);
        return true;
      },
    );
  });

  it('rejects a Java 8 as too old and says so', () => {
    const java8 = fakeJava(join(tmp, 'jdk8', 'bin'), '1.8.0_402');
    assert.throws(
      () => findJava({ ...NOWHERE, JAVA: java8 }, { jvmDir: emptyJvmDir }),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'java_missing');
        assert.ok(error.message.includes(`${java8} ($JAVA): Java 8, too old`), error.message);
        return true;
      },
    );
  });

  it('uses $JAVA_HOME/bin/java', () => {
    const home = join(tmp, 'jdk21');
    const java = fakeJava(join(home, 'bin'), '21.0.2');
    assert.deepEqual(findJava({ PATH: '/nonexistent', JAVA_HOME: home }, { jvmDir: emptyJvmDir }), {
      path: java,
      source: '$JAVA_HOME',
      major: 21,
    });
  });

  it('looks `java` up on the PATH of the env it is given', () => {
    const bin = join(tmp, 'path-bin');
    fakeJava(bin, '25');
    assert.deepEqual(findJava({ ...NOWHERE, PATH: bin }, { jvmDir: emptyJvmDir }), {
      path: 'java',
      source: 'PATH',
      major: 25,
    });
  });

  it('picks the newest-named JDK under jvmDir', () => {
    const jvmDir = join(tmp, 'jvm');
    fakeJava(join(jvmDir, 'java-17-fake', 'bin'), '17.0.15');
    const newest = fakeJava(join(jvmDir, 'java-25-fake', 'bin'), '25');
    mkdirSync(join(jvmDir, 'not-a-jdk'));
    assert.deepEqual(findJava(NOWHERE, { jvmDir }), { path: newest, source: jvmDir, major: 25 });
  });

  it('accepts $JAVA when it points to a real Java 17', (t) => {
    if (!existsSync(SYSTEM_JAVA_17)) {
      t.skip(`${SYSTEM_JAVA_17} is not installed on this machine`);
      return;
    }
    assert.deepEqual(findJava({ ...NOWHERE, JAVA: SYSTEM_JAVA_17 }, { jvmDir: emptyJvmDir }), {
      path: SYSTEM_JAVA_17,
      source: '$JAVA',
      major: 17,
    });
  });
});
