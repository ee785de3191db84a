// Find a Java >= 17 for Keycloak: $JAVA, then $JAVA_HOME, then `java` on PATH, then the newest JDK under /usr/lib/jvm.
// Everything comes from the `env` and `jvmDir` given, so tests can point it at nothing without touching the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { stackSettings } from './settings.ts';

export interface JavaRuntime {
  path: string;
  major: number;
  source: string;
}

const MIN_MAJOR = 17;

export interface FindJavaOptions {
  /** Where distribution JDKs live; defaults to /usr/lib/jvm. */
  jvmDir?: string;
}

/** Runs `java -version`; a bare `java` is looked up on `env.PATH`. Undefined when it does not run or says no version. */
export function javaMajor(
  javaPath: string,
  env: Readonly<Record<string, string | undefined>> = stackSettings().env,
): number | undefined {
  // `java -version` prints to stderr.
  const result = spawnSync(javaPath, ['-version'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    timeout: 15_000,
  });
  if (result.error || result.status !== 0) return undefined;
  return parseMajor(`${result.stderr}${result.stdout}`);
}

/** The major version in `java -version` output: `"17.0.15"` → 17, `"1.8.0_402"` → 8, `"25"` → 25. */
export function parseMajor(text: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

export function findJava(
  env: Readonly<Record<string, string | undefined>> = stackSettings().env,
  options: FindJavaOptions = {},
): JavaRuntime {
  const jvmDir = options.jvmDir ?? '/usr/lib/jvm';
  const candidates: Array<{ path: string; source: string }> = [];
  if (env.JAVA) candidates.push({ path: env.JAVA, source: '$JAVA' });
  if (env.JAVA_HOME) candidates.push({ path: join(env.JAVA_HOME, 'bin', 'java'), source: '$JAVA_HOME' });
  candidates.push({ path: 'java', source: 'PATH' });
  if (existsSync(jvmDir)) {
    for (const dir of readdirSync(jvmDir).sort().reverse()) {
      const path = join(jvmDir, dir, 'bin', 'java');
      if (existsSync(path)) candidates.push({ path, source: jvmDir });
    }
  }
  const tried: string[] = [];
  for (const candidate of candidates) {
    const major = javaMajor(candidate.path, env);
    tried.push(
      `${candidate.path} (${candidate.source}): ${major === undefined ? 'not runnable' : `Java ${major}, too old`}`,
    );
    if (major !== undefined && major >= MIN_MAJOR) return { ...candidate, major };
  }
  throw new StackError(
    'java_missing',
    `No Java ${MIN_MAJOR} or newer found for Keycloak. Tried: ${tried.join('; ')}`,
    `install a JDK ${MIN_MAJOR}, 21 or 25 (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME to one`,
  );
}
