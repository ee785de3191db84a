// Programs the suites, the bench and `make images` run that npm cannot provide. Each is checked before use, so a
// machine without one gets "install X with …" instead of `spawn X ENOENT` halfway through a run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { StackError } from './errors.ts';

export interface Tool {
  /** What it is used for, in the words of the message. */
  readonly purpose: string;
  /** How to get it (Debian first: what CI and this sandbox's machines run). */
  readonly install: string;
}

export const TOOLS = {
  wrk: {
    purpose: 'the load generator of `make bench` and the bench smoke stage',
    install: '`apt-get install wrk` (macOS: `brew install wrk`)',
  },
  chromium: {
    purpose: "the browser the e2e suites drive through Keycloak's login page",
    install: '`apt-get install chromium` (or point CHROMIUM_PATH at a Chromium or Chrome binary)',
  },
  'redis-server': {
    purpose: "the native stack's Redis",
    install: '`apt-get install redis-server` (macOS: `brew install redis`)',
  },
  debootstrap: {
    purpose: 'the Debian base of the images `make images` builds',
    install: '`apt-get install debootstrap`',
  },
  openssl: {
    purpose: "the sandbox's local CA and client-docs' certificate (CIMD documents over HTTPS)",
    install: '`apt-get install openssl` (macOS: preinstalled)',
  },
  docker: {
    purpose: 'the compose provider and `make images`',
    install: '`bash scripts/install-docker.sh` (Debian 12), or Docker Desktop',
  },
} as const satisfies Record<string, Tool>;
export type ToolName = keyof typeof TOOLS;

/** Whether `program` (a name looked up on PATH, or a path) can be executed. */
export function hasProgram(program: string, path?: string): boolean {
  if (program.includes('/')) {
    try {
      accessSync(program, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  const result = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', program], {
    stdio: 'ignore',
    env: path === undefined ? undefined : { PATH: path },
  });
  return result.status === 0;
}

/** One line per missing tool: "wrk is not installed (…): install it with …". */
export function missingTools(wanted: ReadonlyArray<ToolName | [ToolName, string]>, path?: string): string[] {
  return wanted.flatMap((entry) => {
    const [name, program] = typeof entry === 'string' ? [entry, entry] : entry;
    if (hasProgram(program, path)) return [];
    const tool: Tool = TOOLS[name];
    return [
      `${program === name ? name : `${name} (${program})`} is not installed (${tool.purpose}): install it with ${tool.install}`,
    ];
  });
}

/** Throws a `missing_tool` StackError naming every missing tool and how to install it. */
export function requireTools(wanted: ReadonlyArray<ToolName | [ToolName, string]>): void {
  const missing = missingTools(wanted);
  if (missing.length > 0)
    throw new StackError(
      'missing_tool',
      missing.join('\n'),
      'install the tools named above, then run the command again',
    );
}
