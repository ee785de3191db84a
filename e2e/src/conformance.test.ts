// The official MCP conformance suite (server scenarios) against the running MCP server, through a proxy that adds
// a real Keycloak access token. Scenarios needing the SDK's fixture tools are expected failures, each with a reason
// in e2e/conformance/expected-failures.yml. Writes test-results/conformance/summary.md.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { startTokenProxy, type TokenProxy } from './conformance/proxy.ts';
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
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [cli, 'server', '--url', proxy.url, '--expected-failures', EXPECTED_FILE, '-o', OUT],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
      child.on('close', (code) => {
        writeFileSync(join(OUT, 'conformance.log'), output);
        resolve(code);
      });
    });
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
    clientExit = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          cli,
          'client',
          '--command',
          command,
          '--suite',
          'auth',
          '--expected-failures',
          EXPECTED_FILE,
          '-o',
          CLIENT_OUT,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
      child.on('close', (code) => {
        writeFileSync(join(CLIENT_OUT, 'conformance.log'), output);
        resolve(code);
      });
    });
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
