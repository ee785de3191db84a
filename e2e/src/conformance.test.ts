// The official MCP conformance suite (server scenarios) against the running MCP server, through a proxy that adds
// a real Keycloak access token. Scenarios needing the SDK's fixture tools are expected failures, each with a reason
// in e2e/conformance/expected-failures.yml. Writes test-results/conformance/summary.md.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startTokenProxy, type TokenProxy } from './conformance/proxy.ts';
import { freePort, runNodeCli } from './harness/cli.ts';
import { ARTIFACTS, launchBrowser, signIn } from './harness/browser.ts';
import { userToken } from './harness/keycloak.ts';
import { stack } from './harness/stack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EXPECTED_FILE = join(ROOT, 'e2e', 'conformance', 'expected-failures.yml');
const OUT = join(ROOT, 'test-results', 'conformance');
const MUST_PASS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';
  errorMessage?: string;
}
const results = new Map<string, Check[]>();
const baseline = parse(readFileSync(EXPECTED_FILE, 'utf8')) as { server: string[]; client: string[] };
const expected = new Set<string>(baseline.server);
const expectedClient = new Set<string>(baseline.client);
const reasons = new Map<string, string>(
  readFileSync(EXPECTED_FILE, 'utf8')
    .split('\n')
    .map((line) => /^\s*-\s*([\w/-]+)\s*#\s*(.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string]),
);
let proxy: TokenProxy;
let exitCode: number | null = null;

function failed(checks: Check[]): boolean {
  return checks.some((c) => c.status === 'FAILURE' || c.status === 'WARNING');
}

describe('MCP conformance suite (server scenarios, via a token-injecting proxy)', () => {
  before(async () => {
    const token = await userToken('alice', 'mcp:tools portfolio:read trade:read trade:write');
    proxy = await startTokenProxy(stack().urls.mcp, () => token);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const cli = join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
    ({ code: exitCode } = await runNodeCli(
      [cli, 'server', '--url', proxy.url, '--expected-failures', EXPECTED_FILE, '-o', OUT],
      { logFile: join(OUT, 'conformance.log') },
    ));
    for (const dir of readdirSync(OUT, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      const scenario = dir.name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
      results.set(scenario, JSON.parse(readFileSync(join(OUT, dir.name, 'checks.json'), 'utf8')) as Check[]);
    }
    const rows = [...results]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([scenario, checks]) => {
        const verdict = !failed(checks)
          ? expected.has(scenario)
            ? 'STALE (passes; remove from baseline)'
            : 'passed'
          : expected.has(scenario)
            ? 'expected failure'
            : 'FAILED';
        return `| ${scenario} | ${verdict} | ${expected.has(scenario) ? (reasons.get(scenario) ?? 'SDK fixture tool') : failed(checks) ? (checks.find((c) => c.status !== 'SUCCESS')?.errorMessage ?? '') : ''} |`;
      });
    const count = (v: string) => rows.filter((r) => r.includes(`| ${v} |`)).length;
    const summary = [
      `# MCP conformance (server scenarios) — ${new Date().toISOString()}`,
      '',
      `Target: ${stack().urls.mcp} via token proxy. ${count('passed')} passed, ${count('expected failure')} expected failures, ${count('FAILED')} failed.`,
      '',
      '| scenario | result | reason |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n');
    writeFileSync(join(OUT, 'summary.md'), summary);
    console.log(summary);
  });
  after(async () => {
    await proxy?.close();
  });

  it('runs every active server scenario and agrees with the expected-failures baseline', () => {
    assert.ok(results.size >= 25, `only ${results.size} scenario results were written`);
    assert.equal(exitCode, 0, `conformance baseline check failed; see ${join(OUT, 'conformance.log')}`);
    assert.ok(proxy.requests > 0);
  });

  for (const scenario of MUST_PASS) {
    it(`passes ${scenario}`, () => {
      const checks = results.get(scenario);
      assert.ok(checks, `no result for ${scenario}`);
      assert.ok(!failed(checks), JSON.stringify(checks.filter((c) => c.status !== 'SUCCESS')));
    });
  }

  it('lists a reason for every expected failure', () => {
    for (const scenario of expected)
      assert.ok(
        reasons.has(scenario) || scenario.startsWith('tools-call') || scenario.startsWith('elicitation'),
        `no reason for ${scenario}`,
      );
    assert.ok(!MUST_PASS.some((s) => expected.has(s)), 'a must-pass scenario is listed as an expected failure');
  });
});

describe('MCP conformance suite (client auth scenarios, our OAuth client)', () => {
  const CLIENT_OUT = join(OUT, 'client');
  const clientResults = new Map<string, Check[]>();
  let clientExit: number | null = null;
  before(async () => {
    rmSync(CLIENT_OUT, { recursive: true, force: true });
    mkdirSync(CLIENT_OUT, { recursive: true });
    const cli = join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
    const command = `${process.execPath} ${join(ROOT, 'e2e', 'src', 'conformance', 'auth-client.ts')}`;
    ({ code: clientExit } = await runNodeCli(
      [cli, 'client', '--command', command, '--suite', 'auth', '--expected-failures', EXPECTED_FILE, '-o', CLIENT_OUT],
      { logFile: join(CLIENT_OUT, 'conformance.log') },
    ));
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const full = join(dir, entry.name);
        try {
          clientResults.set(
            `auth/${entry.name.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')}`,
            JSON.parse(readFileSync(join(full, 'checks.json'), 'utf8')) as Check[],
          );
        } catch {
          walk(full);
        }
      }
    };
    walk(join(CLIENT_OUT, 'auth'));
    const rows = [...clientResults]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([scenario, checks]) =>
          `| ${scenario} | ${!failed(checks) ? (expectedClient.has(scenario) ? 'STALE (passes)' : 'passed') : expectedClient.has(scenario) ? 'expected failure' : 'FAILED'} | ${expectedClient.has(scenario) ? (reasons.get(scenario) ?? '') : ''} |`,
      );
    const count = (v: string) => rows.filter((r) => r.includes(`| ${v} |`)).length;
    const text = [
      '',
      "## Client auth scenarios (our OAuth client: SDK v2 + the suites' provider)",
      '',
      `${count('passed')} passed, ${count('expected failure')} expected failures, ${count('FAILED')} failed.`,
      '',
      '| scenario | result | reason |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n');
    writeFileSync(join(OUT, 'summary.md'), readFileSync(join(OUT, 'summary.md'), 'utf8') + text);
    console.log(text);
  });

  it('runs every client auth scenario and agrees with the expected-failures baseline', () => {
    assert.ok(clientResults.size >= 10, `only ${clientResults.size} client scenario results`);
    assert.equal(clientExit, 0, `client baseline check failed; see ${join(CLIENT_OUT, 'conformance.log')}`);
  });

  for (const scenario of [
    'auth/metadata-default',
    'auth/scope-from-www-authenticate',
    'auth/scope-step-up',
    'auth/token-endpoint-auth-none',
  ]) {
    it(`passes ${scenario} with our client`, () => {
      const checks = clientResults.get(scenario);
      assert.ok(checks, `no result for ${scenario}`);
      assert.ok(!failed(checks), JSON.stringify(checks.filter((c) => c.status !== 'SUCCESS')));
    });
  }
});

describe('MCP conformance 0.2 (alpha) `authorization`: the realm as the MCP authorization server', () => {
  const AS_OUT = join(OUT, 'authorization');
  const asChecks = new Map<string, Check[]>();
  const expectedChecks = new Set<string>((baseline as { authorization?: string[] }).authorization ?? []);
  let asExit: number | null = null;
  let authorizationUrl: URL | undefined;
  before(async () => {
    rmSync(AS_OUT, { recursive: true, force: true });
    mkdirSync(AS_OUT, { recursive: true });
    const cli = join(ROOT, 'node_modules', 'conformance-next', 'dist', 'index.js');
    const port = await freePort();
    const browser = await launchBrowser();
    const context = await browser.newContext();
    let signedIn: Promise<void> = Promise.resolve();
    try {
      // The public CLI client mcp-cli accepts any loopback redirect; --resource is the MCP server (RFC 8707).
      const args = ['authorization', '--url', stack().urls.issuer, '--client-id', 'mcp-cli'];
      ({ code: asExit } = await runNodeCli(
        [cli, ...args, '--resource', stack().urls.mcp, '-p', String(port), '-o', AS_OUT],
        {
          logFile: join(AS_OUT, 'conformance.log'),
          timeoutMs: 180_000,
          onOutput(output, child) {
            const match = /complete the authentication process\.\s*\n(\S+)/.exec(output);
            if (!match || authorizationUrl) return;
            const target = (authorizationUrl = new URL(match[1] as string));
            signedIn = context
              .newPage()
              .then((page) =>
                signIn(page, target, 'alice', page.waitForURL(/\/callback/, { timeout: 30_000 }), (name) =>
                  page.screenshot({ path: join(ARTIFACTS, `conformance-authorization-${name}.png`) }).then(() => {}),
                ),
              )
              // A failed sign-in ends the run now instead of leaving the CLI waiting 5 minutes for a callback.
              .catch((error: unknown) => {
                child.kill();
                throw error;
              });
          },
        },
      ));
      await signedIn;
    } finally {
      await context.close();
      await browser.close();
    }
    for (const entry of readdirSync(AS_OUT, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const scenario = entry.name.replace(/^authorization-server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
      asChecks.set(scenario, JSON.parse(readFileSync(join(AS_OUT, entry.name, 'checks.json'), 'utf8')) as Check[]);
    }
    const rows = [...asChecks].flatMap(([scenario, checks]) =>
      checks.map((c) => {
        const ok = c.status === 'SUCCESS' || c.status === 'INFO';
        const verdict = ok
          ? expectedChecks.has(c.id)
            ? 'STALE (passes)'
            : 'passed'
          : expectedChecks.has(c.id)
            ? 'expected failure'
            : 'FAILED';
        return `| ${scenario} | ${c.id} | ${verdict} | ${expectedChecks.has(c.id) ? (reasons.get(c.id) ?? '') : ''} |`;
      }),
    );
    const count = (v: string) => rows.filter((r) => r.includes(`| ${v} |`)).length;
    const text = [
      '',
      '## Authorization server checks (conformance 0.2.0-alpha.12 `authorization` against the realm, client mcp-cli)',
      '',
      `${count('passed')} passed, ${count('expected failure')} expected failures, ${count('FAILED')} failed.`,
      '',
      '| scenario | check | result | reason |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n');
    const summary = join(OUT, 'summary.md');
    writeFileSync(summary, (existsSync(summary) ? readFileSync(summary, 'utf8') : '') + text);
    console.log(text);
  });

  it('asked for the code with PKCE S256 and the MCP resource, and alice signed in', () => {
    assert.ok(authorizationUrl, `no authorization URL; see ${join(AS_OUT, 'conformance.log')}`);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizationUrl.searchParams.get('resource'), stack().urls.mcp);
  });

  it('ran both scenarios (metadata endpoint, authorization-code grant)', () => {
    assert.notEqual(asExit, null, `conformance authorization was killed; see ${join(AS_OUT, 'conformance.log')}`);
    assert.deepEqual([...asChecks.keys()].sort(), [
      'authorization-code-grant',
      'authorization-server-metadata-endpoint',
    ]);
  });

  it('every check passes except the expected ones, each listed with its reason', () => {
    const unexpected = [...asChecks.values()]
      .flat()
      .filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO' && !expectedChecks.has(c.id));
    assert.deepEqual(unexpected, []);
    for (const id of expectedChecks) assert.ok(reasons.get(id), `no reason for ${id}`);
    const stale = [...asChecks.values()].flat().filter((c) => c.status === 'SUCCESS' && expectedChecks.has(c.id));
    assert.deepEqual(
      stale.map((c) => c.id),
      [],
      'an expected failure passes now: remove it from the baseline',
    );
  });
});
