// check-server, tested: the command against the stack's own MCP server passes every check; against deliberately
// broken variants of the same server (checks/src/server/fixtures/flawed-server.ts) it fails exactly the check whose
// rule the variant breaks, naming that rule. All four runs go at once (each waits ~8 s for a token to expire).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MCP_SERVER_CLIENT, repoRoot } from '@sandbox/stack';
import { formatReport, writeReport, type Report } from '../../checks/src/report.ts';
import { startFlawedServer, type Flaw, type FlawedServer } from '../../checks/src/server/fixtures/flawed-server.ts';
import { parseServerCheckArgs } from '../../checks/src/server/options.ts';
import { RULES } from '../../checks/src/server/rules.ts';
import { runCheckServer } from '../../checks/src/server/run.ts';
import { runNodeCli } from './harness/cli.ts';
import { adminRoot } from './harness/keycloak.ts';
import { JWT_SHAPE } from './harness/refusals.ts';
import { stack } from './harness/stack.ts';

const OUT = join(repoRoot, 'test-results', 'checks');
const EVERY_CHECK = [
  'server.metadata.resource',
  'server.metadata.authorization-servers',
  'server.challenge.bearer',
  'server.challenge.resource-metadata',
  'server.challenge.scope',
  'server.token.valid-accepted',
  'server.token.wrong-audience',
  'server.token.other-realm',
  'server.token.id-token',
  'server.token.alg-none',
  'server.token.alg-confusion',
  'server.token.unknown-key',
  'server.token.tampered',
  'server.scope.step-up',
  'server.transport.origin',
  'server.transport.host',
  'server.token.no-passthrough',
  'server.token.expired',
];

/** What each broken variant must fail, and a phrase of the rule the report must name for it. */
const EXPECTED: Record<Exclude<Flaw, 'none'>, Record<string, string>> = {
  'no-audience-check': { 'server.token.wrong-audience': RULES.wrongAudience },
  'no-challenge': {
    'server.challenge.bearer': RULES.challengeBearer,
    'server.challenge.resource-metadata': RULES.challengeResourceMetadata,
  },
  'token-passthrough': { 'server.token.no-passthrough': RULES.passthrough },
};
const FLAWED = Object.keys(EXPECTED) as Array<keyof typeof EXPECTED>;

const realmOptions = () => ['--keycloak', stack().urls.keycloak, '--stock-api', stack().urls.stockApi];

let cli: Promise<{ code: number | null; output: string }>;
const variants = new Map<Flaw, Promise<Report>>();
const servers: FlawedServer[] = [];
const started = performance.now();

before(async () => {
  cli = runNodeCli(
    [join(repoRoot, 'checks/src/cli.ts'), 'check-server', stack().urls.mcp, ...realmOptions(), '--out', OUT],
    { timeoutMs: 120_000, logFile: join(OUT, 'check-server.log') },
  );
  for (const flaw of FLAWED) {
    const server = await startFlawedServer(flaw, {
      issuer: stack().urls.issuer,
      stockApi: stack().urls.stockApi,
      clientId: stack().urls.mcp,
      clientSecret: MCP_SERVER_CLIENT.secret,
    });
    servers.push(server);
    const report = runCheckServer(parseServerCheckArgs([server.url, ...realmOptions()])).then((r) => {
      writeReport(r, OUT, `check-server-${flaw}`);
      return r;
    });
    report.catch(() => {});
    variants.set(flaw, report);
  }
});

after(async () => {
  await Promise.allSettled([...variants.values()]);
  await Promise.all(servers.map((s) => s.close()));
});

describe('check-server against the sandbox MCP server', () => {
  it('passes every check, exits 0 and writes the JSON and JUnit results', async () => {
    const { code, output } = await cli;
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`${EVERY_CHECK.length} passed, 0 failed, 0 skipped`));
    const report = JSON.parse(readFileSync(join(OUT, 'check-server.json'), 'utf8')) as Report & {
      counts: Record<string, number>;
    };
    assert.deepEqual(report.results.map((r) => r.id).sort(), [...EVERY_CHECK].sort());
    assert.deepEqual(report.counts, { pass: EVERY_CHECK.length, fail: 0, skip: 0 });
    const junit = readFileSync(join(OUT, 'check-server.junit.xml'), 'utf8');
    assert.match(junit, new RegExp(`<testsuites tests="${EVERY_CHECK.length}" failures="0" skipped="0"`));
    assert.doesNotMatch(output, JWT_SHAPE, 'a token in the output');
    assert.doesNotMatch(JSON.stringify(report), JWT_SHAPE, 'a token in check-server.json');
    console.log(`check-server against ${stack().urls.mcp}: ${Math.round(performance.now() - started)} ms`);
  });
});

describe('check-server against deliberately broken variants', () => {
  for (const flaw of FLAWED) {
    it(`fails exactly ${Object.keys(EXPECTED[flaw]).join(' and ')} for a server with ${flaw}, naming the rule`, async () => {
      const report = await (variants.get(flaw) as Promise<Report>);
      const failed = report.results.filter((r) => r.status === 'fail');
      assert.deepEqual(failed.map((r) => r.id).sort(), Object.keys(EXPECTED[flaw]).sort(), formatReport(report));
      const text = formatReport(report);
      for (const result of failed) {
        assert.equal(result.rule, EXPECTED[flaw][result.id]);
        assert.ok(result.observed && result.fix, `${result.id} says what happened and how to fix it`);
        assert.ok(text.includes(`FAIL  ${result.id}`) && text.includes(`rule:     ${result.rule}`), text);
      }
      // The variant is the real server otherwise: every other check still passes (skips only where a check cannot apply).
      assert.equal(report.results.length, EVERY_CHECK.length);
      assert.doesNotMatch(JSON.stringify(report), JWT_SHAPE, `a token in the report for ${flaw}`);
      assert.ok(existsSync(join(OUT, `check-server-${flaw}.junit.xml`)));
    });
  }

  it('leaves no throwaway client behind in the sandbox or master realm', async () => {
    await Promise.allSettled([...variants.values(), cli]);
    for (const realm of ['sandbox', 'master']) {
      const clients = (await (
        await adminRoot(`/${realm}/clients?clientId=check-server-&search=true`)
      ).json()) as Array<{
        clientId: string;
      }>;
      assert.deepEqual(
        clients.map((c) => c.clientId),
        [],
        `left in ${realm}`,
      );
    }
    console.log(`check-server: all four runs done in ${Math.round(performance.now() - started)} ms`);
  });
});
