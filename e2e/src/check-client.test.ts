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
  const junit = readFileSync(join(OUT, `${name}.junit.xml`), 'utf8');
  const verdicts = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
  const observed = (id: string) => report.results.find((r) => r.id === id)?.observed ?? '';
  return { ...run, report, junit, verdicts, observed };
}

const ALL_STEPS_DONE = {
  'client.prm-discovery': 'pass',
  'client.as-metadata': 'pass',
  'client.registration': 'pass',
  'client.authorization': 'pass',
  'client.pkce-s256': 'pass',
  'client.resource-authorization': 'pass',
  'client.resource-token': 'pass',
  'client.scope-from-challenge': 'pass',
  'client.authorized-call': 'pass',
  'client.step-up': 'pass',
  // Both ask for offline_access and get a refresh token, but their tokens outlive the run: never counted as a pass.
  'client.token-refresh': 'skip',
};

describe('check-client: a per-step report for real MCP clients', () => {
  it('mcp-remote over stdio: DCR as a native app, PKCE S256, resource on both requests, one step-up for place_order', async () => {
    const config = mkdtempSync(join(tmpdir(), 'check-client-mcp-remote-'));
    try {
      const port = String(await freePort());
      const run = await checkClient(
        'check-client-mcp-remote',
        ['--stdio', '--env', `MCP_REMOTE_CONFIG_DIR=${config}`],
        [process.execPath, MCP_REMOTE, '{url}', port],
      );
      assert.deepEqual(run.verdicts, ALL_STEPS_DONE, run.output);
      assert.equal(run.code, 0, run.output);
      assert.match(
        run.observed('client.registration'),
        /^DCR .*application_type=native, token_endpoint_auth_method=none/,
      );
      assert.match(
        run.observed('client.registration'),
        new RegExp(`redirect_uris=\\["http://localhost:${port}/oauth/callback"\\]`),
      );
      // It adds offline_access to the challenge's scope, and keeps what it had when it steps up.
      assert.match(run.observed('client.scope-from-challenge'), /asked for "[^"]*offline_access[^"]*"; the challenge/);
      // The 403 names the token's scopes plus trade:write (in the token's order, which varies).
      assert.match(
        run.observed('client.step-up'),
        /403 .*naming "[^"]*trade:write[^"]*"; re-authorized with scope "[^"]*trade:write/,
      );
      assert.match(run.observed('client.authorization'), /^2 authorization request\(s\)/);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });

  it('SDK v2 client (self-driven script): the same steps, application_type derived by the SDK from its loopback redirect', async () => {
    const run = await checkClient(
      'check-client-sdk-v2',
      [],
      [process.execPath, join(import.meta.dirname, 'check-client', 'sdk-v2-client.ts'), '{url}'],
    );
    assert.deepEqual(run.verdicts, ALL_STEPS_DONE, run.output);
    assert.equal(run.code, 0, run.output);
    assert.match(run.observed('client.registration'), /^DCR .*application_type=native/);
    assert.match(run.observed('client.pkce-s256'), /S256 on 2 request\(s\); code_verifier sent/);
    assert.match(run.observed('client.authorized-call'), new RegExp(`aud=\\["${stack().urls.mcp}"\\]`));
  });

  it('a deficient client (no application_type, no resource, fixed scope): exactly those steps fail, naming the rule', async () => {
    const run = await checkClient(
      'check-client-deficient',
      [],
      [process.execPath, join(import.meta.dirname, 'check-client', 'deficient-client.ts'), '{url}'],
    );
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(run.verdicts, {
      ...ALL_STEPS_DONE,
      'client.registration': 'fail',
      'client.resource-authorization': 'fail',
      'client.resource-token': 'fail',
      'client.scope-from-challenge': 'fail',
      'client.step-up': 'skip', // it never calls a tool that needs more
    });
    assert.match(run.observed('client.registration'), /application_type=\(absent\)/);
    assert.match(run.observed('client.scope-from-challenge'), /missing portfolio:read, trade:read/);
    assert.match(
      run.output,
      /rule: +MCP 2025-11-25 authorization §Resource Parameter Implementation: MCP clients MUST include the resource parameter/,
    );
    assert.match(run.junit, /<testsuites tests="11" failures="4" skipped="2"/);
  });
});
