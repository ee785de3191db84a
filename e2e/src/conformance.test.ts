// The official MCP conformance suite, three commands: `server` (0.1.16) against the running MCP server through a proxy
// that adds a real Keycloak access token; `client` (0.2 alpha) running every auth/* scenario against our OAuth client;
// `authorization` (0.2 alpha) against the realm, with the login driven in Chromium. Expected failures, each with its
// reason, are in e2e/conformance/expected-failures.yml. Writes test-results/conformance/summary.md, whose first table
// (one row per command, with counts) is also printed to the log.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** One section of summary.md per CLI command, and its counts for the one overall table `make conformance` prints. */
const sections: Array<{ command: string; title: string; counts: Record<string, number>; text: string }> = [];
function appendSection(command: string, title: string, header: string[], rows: string[]): void {
  const count = (verdict: string) => rows.filter((row) => row.includes(`| ${verdict} |`)).length;
  const counts = {
    passed: count('passed'),
    'expected failure': count('expected failure'),
    failed: count('FAILED') + rows.filter((row) => row.includes('| STALE')).length,
  };
  const text = [
    `## ${title}`,
    '',
    `${counts.passed} passed, ${counts['expected failure']} expected failures, ${counts.failed} failed.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows,
    '',
  ].join('\n');
  sections.push({ command, title, counts, text });
}

/** summary.md: the overall table (one row per command), then each command's section; the table also goes to the log. */
after(() => {
  const table = [
    '| conformance command | what it tests | passed | expected failures | failed |',
    '|---|---|---|---|---|',
    ...sections.map(
      (s) =>
        `| ${s.command} | ${s.title} | ${s.counts.passed} | ${s.counts['expected failure']} | ${s.counts.failed} |`,
    ),
  ].join('\n');
  mkdirSync(OUT, { recursive: true });
  writeFileSync(
    join(OUT, 'summary.md'),
    [`# MCP conformance — ${new Date().toISOString()}`, '', table, '', ...sections.map((s) => s.text)].join('\n'),
  );
  console.log(`\nMCP conformance, all commands:\n${table}\n`);
});

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
            ? 'STALE (passes)'
            : 'passed'
          : expected.has(scenario)
            ? 'expected failure'
            : 'FAILED';
        return `| ${scenario} | ${verdict} | ${expected.has(scenario) ? (reasons.get(scenario) ?? 'SDK fixture tool') : failed(checks) ? (checks.find((c) => c.status !== 'SUCCESS')?.errorMessage ?? '') : ''} |`;
      });
    appendSection(
      'server',
      `Server scenarios (conformance 0.1.16 \`server\`, ${stack().urls.mcp} through a token proxy)`,
      ['scenario', 'result', 'reason'],
      rows,
    );
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

describe('MCP conformance 0.2 (alpha): every client auth scenario against our OAuth client', () => {
  const CLIENT_OUT = join(OUT, 'client');
  const clientResults = new Map<string, Check[]>();
  let scenarios: string[] = [];
  before(async () => {
    rmSync(CLIENT_OUT, { recursive: true, force: true });
    mkdirSync(CLIENT_OUT, { recursive: true });
    const cli = join(ROOT, 'node_modules', 'conformance-next', 'dist', 'index.js');
    // Every auth/* client scenario the CLI lists (spec scenarios, back-compat, 2026-07-28 ones, and extensions).
    const listed = await runNodeCli([cli, 'list']);
    scenarios = [...listed.output.matchAll(/^\s+- (auth\/[\w./-]+) \[/gm)].map((m) => m[1] as string);
    const command = `${process.execPath} ${join(ROOT, 'e2e', 'src', 'conformance', 'auth-client.ts')}`;
    // Each scenario is its own test AS and MCP server on free ports: four at a time.
    const queue = [...scenarios];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let scenario = queue.shift(); scenario; scenario = queue.shift()) {
          const out = join(CLIENT_OUT, scenario.replace('/', '-'));
          await runNodeCli([cli, 'client', '--command', command, '--scenario', scenario, '-o', out], {
            logFile: `${out}.log`,
            timeoutMs: 120_000,
          });
          const dir = readdirSync(join(out, 'auth'), { withFileTypes: true }).find((entry) => entry.isDirectory());
          if (dir)
            clientResults.set(
              scenario,
              JSON.parse(readFileSync(join(out, 'auth', dir.name, 'checks.json'), 'utf8')) as Check[],
            );
        }
      }),
    );
    const rows = scenarios.map((scenario) => {
      const checks = clientResults.get(scenario);
      const ok = checks !== undefined && !failed(checks);
      const verdict = ok
        ? expectedClient.has(scenario)
          ? 'STALE (passes)'
          : 'passed'
        : expectedClient.has(scenario)
          ? 'expected failure'
          : 'FAILED';
      const why = expectedClient.has(scenario)
        ? (reasons.get(scenario) ?? '')
        : ok
          ? ''
          : (checks?.find((c) => c.status === 'FAILURE' || c.status === 'WARNING')?.id ?? 'no result');
      return `| ${scenario} | ${verdict} | ${why} |`;
    });
    appendSection(
      'client',
      "Client auth scenarios (conformance 0.2.0-alpha.12 `client`, our OAuth client: SDK v2 + the suites' provider)",
      ['scenario', 'result', 'reason'],
      rows,
    );
  });

  it('runs every auth/* client scenario the CLI lists, and each passes or is an expected failure with a reason', () => {
    assert.ok(scenarios.length >= 30, `only ${scenarios.length} auth scenarios listed`);
    const verdicts = scenarios.map((scenario) => {
      const checks = clientResults.get(scenario);
      const ok = checks !== undefined && !failed(checks);
      return { scenario, ok, expected: expectedClient.has(scenario) };
    });
    assert.deepEqual(
      verdicts.filter((v) => !v.ok && !v.expected).map((v) => v.scenario),
      [],
      `unexpected failures; see ${CLIENT_OUT}`,
    );
    assert.deepEqual(
      verdicts.filter((v) => v.ok && v.expected).map((v) => v.scenario),
      [],
      'an expected failure passes now: remove it from the baseline',
    );
    for (const scenario of expectedClient) assert.ok(reasons.get(scenario), `no reason for ${scenario}`);
  });

  for (const scenario of [
    'auth/basic-cimd',
    'auth/resource-mismatch',
    'auth/iss-wrong-issuer',
    'auth/iss-supported-missing',
    'auth/scope-step-up',
    'auth/offline-access-scope',
    'auth/authorization-server-migration',
    'auth/2025-03-26-oauth-metadata-backcompat',
    // The extensions: client credentials (SEP-1046), ID-JAG (SEP-990), DPoP (RFC 9449), workload identity (RFC 7523).
    'auth/client-credentials-basic',
    'auth/client-credentials-jwt',
    'auth/enterprise-managed-authorization',
    'auth/dpop',
    'auth/dpop-nonce',
    'auth/wif-jwt-bearer',
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
    appendSection(
      'authorization',
      'Authorization server checks (conformance 0.2.0-alpha.12 `authorization` against the realm, client mcp-cli)',
      ['scenario', 'check', 'result', 'reason'],
      rows,
    );
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
