// Find a Java >= 17 for Keycloak: $JAVA, then $JAVA_HOME, then `java` on PATH, then the newest JDK under /usr/lib/jvm.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.ts';

export interface JavaRuntime { path: string; major: number; source: string }

const MIN_MAJOR = 17;

export function javaMajor(javaPath: string): number | undefined {
  // `java -version` prints to stderr.
  const result = spawnSync(javaPath, ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error || result.status !== 0) return undefined;
  return parseMajor(`${result.stderr}${result.stdout}`);
}

function parseMajor(text: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

export function findJava(env: NodeJS.ProcessEnv = process.env): JavaRuntime {
  const candidates: Array<{ path: string; source: string }> = [];
  if (env.JAVA) candidates.push({ path: env.JAVA, source: '$JAVA' });
  if (env.JAVA_HOME) candidates.push({ path: join(env.JAVA_HOME, 'bin', 'java'), source: '$JAVA_HOME' });
  candidates.push({ path: 'java', source: 'PATH' });
  if (existsSync('/usr/lib/jvm')) {
    for (const dir of readdirSync('/usr/lib/jvm').sort().reverse()) {
      const path = join('/usr/lib/jvm', dir, 'bin', 'java');
      if (existsSync(path)) candidates.push({ path, source: '/usr/lib/jvm' });
    }
  }
  const tried: string[] = [];
  for (const candidate of candidates) {
    const major = javaMajor(candidate.path);
    tried.push(`${candidate.path} (${candidate.source}): ${major ?? 'not runnable'}`);
    if (major !== undefined && major >= MIN_MAJOR) return { ...candidate, major };
  }
  throw new StackError(
    'java_missing',
    `No Java ${MIN_MAJOR} or newer found for Keycloak. Tried: ${tried.join('; ')}`,
    `install a JDK ${MIN_MAJOR}, 21 or 25 (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME to one`,
  );
}
