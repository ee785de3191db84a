// check-client against real clients: mcp-remote (driven over stdio), the SDK v2 client (self-driven script) and a
// deliberately deficient client, each through Keycloak's real login in Chromium, run as users run it
// (`node checks/src/cli.ts check-client … -- <command>`). Pins each client's per-step verdicts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHROMIUM_PATH } from './harness/browser.ts';
import { freePort, runNodeCli } from './harness/cli.ts';
import { stack } from './harness/stack.ts';

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'checks', 'src', 'cli.ts');
const OUT = join(ROOT, 'test-results', 'checks');
const MCP_REMOTE = require.resolve('mcp-remote/dist/proxy.js');

interface Written {
  results: Array<{ id: string; status: string; observed?: string; fix?: string }>;
  counts: { pass: number; fail: number; skip: number };
}

async function checkClient(name: string, options: string[], command: string[]) {
  const args = [CLI, 'check-client', '--mcp-url', stack().urls.mcp, '--out', OUT, '--name', name];
  const run = await runNodeCli([...args, '--chromium', CHROMIUM_PATH, ...options, '--', ...command], {
    timeoutMs: 120_000,
    logFile: join(OUT, `${name}.out.txt`),
  });
  const report = JSON.parse(readFileSync(join(OUT, `${name}.json`), 'utf8')) as Written;
  readFileSync(join(OUT, `${name}.junit.xml`), 'utf8');
  const verdicts = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
  const observed = (id: string) => report.results.find((r) => r.id === id)?.observed ?? '';
  return { ...run, report, verdicts, observed };
}

describe('check-client: a per-step report for real MCP clients', () => {
  it('mcp-remote over stdio', async () => {
    const config = mkdtempSync(join(tmpdir(), 'check-client-mcp-remote-'));
    try {
      const run = await checkClient(
        'check-client-mcp-remote',
        ['--stdio', '--env', `MCP_REMOTE_CONFIG_DIR=${config}`],
        [process.execPath, MCP_REMOTE, '{url}', String(await freePort())],
      );
      console.log(run.output);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('SDK v2 client', async () => {
    const run = await checkClient(
      'check-client-sdk-v2',
      [],
      [process.execPath, join(import.meta.dirname, 'check-client', 'sdk-v2-client.ts'), '{url}'],
    );
    console.log(run.output);
  });

  it('deficient client', async () => {
    const run = await checkClient(
      'check-client-deficient',
      [],
      [process.execPath, join(import.meta.dirname, 'check-client', 'deficient-client.ts'), '{url}'],
    );
    console.log(run.output);
    assert.equal(run.code, 1);
  });
});
