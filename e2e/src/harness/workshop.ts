// The workshop CLI (`make lab …`, `make lab-try`, `make lab-reset`, `make doctor`) as the Makefile runs it, pointed at
// the stack under test; or, with `stackArgs: false`, exactly as given (the defaults of `make up`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@sandbox/stack';
import { stack } from './stack.ts';

export function workshopCli(
  args: string[],
  options: { stackArgs?: boolean } = {},
): { code: number | null; output: string } {
  const { urls } = stack();
  const target =
    options.stackArgs === false ? [] : ['--keycloak', urls.keycloak, '--mcp', urls.mcp, '--stock-api', urls.stockApi];
  const run = spawnSync(process.execPath, [join(repoRoot, 'workshop', 'src', 'cli.ts'), ...args, ...target], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: run.status, output: run.stdout + run.stderr };
}
