// `make bench`: interleaved load runs of the variants below against a real native stack, with wrk on loopback.
// Writes bench/results/<timestamp>.json (+ .md table + .svg chart). `--smoke` runs a few seconds of each, for CI.
//   node bench/run.ts [--smoke] [--rounds 3] [--seconds 10] [--soak 60]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as oidc from 'openid-client';
import {
  E2E_PORTS,
  MCP_SERVER_CLIENT,
  offsetPorts,
  StackError,
  startNative,
  type RunningStack,
  type StackUrls,
} from '../stack/src/index.ts';
import { repoRoot } from '../stack/src/paths.ts';
import { stackSettings } from '../stack/src/settings.ts';
import { requireTools } from '../stack/src/tools.ts';
import { adminApi, userToken } from '../e2e/src/harness/keycloak.ts';
import { harnessSettings } from '../e2e/src/harness/settings.ts';
import { useStack } from '../e2e/src/harness/stack.ts';
import { writeReport } from './report.ts';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    soak: { type: 'string' },
    connections: { type: 'string', default: '50' },
  },
});
const smoke = values.smoke;
const ROUNDS = Number(values.rounds ?? (smoke ? 1 : 3));
const SECONDS = Number(values.seconds ?? (smoke ? 2 : 10));
const WARMUP = smoke ? 1 : 3;
const SOAK = Number(values.soak ?? (smoke ? 0 : 60));
const CONNECTIONS = Number(values.connections);
const node = process.execPath;
const log = (line: string) => console.log(line);

// ---- stack and tokens ------------------------------------------------------------------------------------------
interface StackInfo {
  urls: StackUrls;
  name: string;
  stop?: () => Promise<void>;
}

async function stackUnderBench(): Promise<StackInfo> {
  const given = harnessSettings.SANDBOX_STACK;
  if (given) return { urls: given.urls, name: given.name };
  const started = performance.now();
  const stack: RunningStack = await startNative({ name: 'bench', ports: offsetPorts(E2E_PORTS, 500) }, log);
  log(`stack ready in ${Math.round(performance.now() - started) / 1000} s`);
  useStack({ provider: 'native', name: 'bench', urls: stack.urls, ports: stack.spec.ports });
  return { urls: stack.urls, name: 'bench', stop: () => stack.stop() };
}

// ---- processes -------------------------------------------------------------------------------------------------
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function memoryKb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: get('VmRSS'), peak: get('VmHWM') };
}

async function startServer(
  name: string,
  script: string,
  port: number,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const logFile = join(repoRoot, '.run', 'bench-logs');
  mkdirSync(logFile, { recursive: true });
  const child = spawn(node, [join(repoRoot, script), String(port)], {
    env: { ...stackSettings().env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i += 1) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() =>
        fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', body: '{}' }),
      );
      if (r.status > 0) return child;
    } catch {
      /* starting */
    }
    await sleep(100);
  }
  throw new Error(`${name} did not start on ${port}`);
}

// ---- wrk ------------------------------------------------------------------------------------------------------
interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

function luaScript(body: unknown, headers: Record<string, string>): string {
  const file = join(repoRoot, '.run', 'bench-logs', `wrk-${Math.random().toString(36).slice(2)}.lua`);
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(JSON.stringify(body))}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function toMs(value: string): number {
  const m = /([\d.]+)(us|ms|s|m)\b/.exec(value);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

function wrk(url: string, script: string, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', () => {
      const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
      const requests = Number(/(\d+) requests in /.exec(out)?.[1] ?? 0);
      const seconds = toMs(/requests in ([\d.]+(?:us|ms|s|m)),/.exec(out)?.[1] ?? '0s') / 1000;
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
      resolve({
        requests,
        seconds,
        rps: requests / (seconds || 1),
        p50: pct('50'),
        p90: pct('90'),
        p99: pct('99'),
        errors,
      });
    });
  });
}

// ---- request shapes -------------------------------------------------------------------------------------------
const CALL = { name: 'get_stock_info', arguments: { symbol: 'ACME' } };
const legacyBody = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: CALL };
const modernBody = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    ...CALL,
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
};
const legacyHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};
const modernHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'get_stock_info',
};

interface Variant {
  id: string;
  label: string;
  port: number;
  body: unknown;
  headers: Record<string, string>;
  auth: boolean;
  metrics: boolean;
  process?: ChildProcess;
}

async function main(): Promise<void> {
  // Before any stack starts: without wrk, say what to install instead of failing with `spawn wrk ENOENT` later.
  requireTools(['wrk']);
  const startedAt = new Date();
  const stack = await stackUnderBench();
  const urls = stack.urls;
  // Long-lived user tokens for the run (the realm default is 5 min; a full bench takes longer).
  const realm = await adminApi('', { method: 'PUT', body: JSON.stringify({ accessTokenLifespan: 3600 }) });
  if (!realm.ok) throw new Error(`could not raise the token lifespan: ${realm.status}`);
  const token = await userToken('alice', 'mcp:tools trade:read portfolio:read');
  const base = 3950 + harnessSettings.BENCH_PORT_OFFSET;
  const serverEnv = {
    ISSUER_URL: urls.issuer,
    MCP_RESOURCE_URL: urls.mcp,
    STOCK_API_URL: urls.stockApi,
    REDIS_URL: urls.redis,
    REDIS_KEY_PREFIX: `mcp:bench-${process.pid}:`,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    ALLOWED_HOSTS: 'localhost,127.0.0.1',
  };
  const auth = { authorization: `Bearer ${token}` };
  const variants: Variant[] = [
    {
      id: 'raw',
      label: '1 raw Hono JSON echo (floor)',
      port: base + 1,
      body: legacyBody,
      headers: legacyHeaders,
      auth: false,
      metrics: false,
    },
    {
      id: 'sdkDefault',
      label: '2 SDK default stateless handler @2025-11-25 (SSE)',
      port: base + 2,
      body: legacyBody,
      headers: legacyHeaders,
      auth: false,
      metrics: false,
    },
    {
      id: 'sdkDefaultModern',
      label: '2b SDK default stateless handler @2026-07-28',
      port: base + 2,
      body: modernBody,
      headers: modernHeaders,
      auth: false,
      metrics: false,
    },
    {
      id: 'oursNoAuth',
      label: '3 ours, JWT verification off (bench verifier)',
      port: base + 3,
      body: legacyBody,
      headers: { ...legacyHeaders, ...auth },
      auth: true,
      metrics: true,
    },
    {
      id: 'oursWarm',
      label: '4 ours, warm exchange cache @2025-11-25',
      port: base + 4,
      body: legacyBody,
      headers: { ...legacyHeaders, ...auth },
      auth: true,
      metrics: true,
    },
    {
      id: 'oursWarmModern',
      label: '6 ours, warm exchange cache @2026-07-28',
      port: base + 4,
      body: modernBody,
      headers: { ...modernHeaders, ...auth },
      auth: true,
      metrics: true,
    },
    {
      id: 'oursNoCache',
      label: '5 ours, cache off (every call exchanges)',
      port: base + 5,
      body: legacyBody,
      headers: { ...legacyHeaders, ...auth },
      auth: true,
      metrics: true,
    },
  ];
  const processes = new Map<number, ChildProcess>();
  const stockPid = JSON.parse(readFileSync(join(repoRoot, '.run', stack.name, 'state.json'), 'utf8')).processes.find(
    (p: { service: string }) => p.service === 'stock-api',
  )?.pid as number | undefined;
  try {
    processes.set(base + 1, await startServer('raw', 'bench/servers/raw-hono.ts', base + 1, {}));
    processes.set(base + 2, await startServer('sdk-default', 'bench/servers/sdk-default.ts', base + 2, {}));
    processes.set(
      base + 3,
      await startServer('ours-noauth', 'bench/servers/ours-noauth.ts', base + 3, {
        ...serverEnv,
        BENCH_TOKEN: token,
        LOG_LEVEL: 'warn',
      }),
    );
    processes.set(base + 4, await startServer('ours', 'server/src/main.ts', base + 4, serverEnv));
    processes.set(
      base + 5,
      await startServer('ours-nocache', 'server/src/main.ts', base + 5, { ...serverEnv, EXCHANGE_CACHE: 'off' }),
    );

    type Sample = LoadResult & {
      cpuUsPerCall: number;
      stockCpuUsPerCall?: number;
      rssMb: number;
      peakRssMb: number;
      exchangesPerCall?: number;
    };
    const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const variant of variants) {
        const child = processes.get(variant.port) as ChildProcess;
        const pid = child.pid as number;
        const url = `http://localhost:${variant.port}/mcp`; // wrk sends Host: localhost:PORT (adding another would duplicate it)
        const script = luaScript(variant.body, variant.headers);
        await wrk(url, script, WARMUP);
        const metrics0 = variant.metrics
          ? ((await (await fetch(`http://127.0.0.1:${variant.port}/metrics`)).json()) as { exchanges: number })
          : undefined;
        const cpu0 = cpuTicks(pid);
        const stock0 = stockPid ? cpuTicks(stockPid) : 0;
        const result = await wrk(url, script, SECONDS);
        const cpu = (cpuTicks(pid) - cpu0) / TICKS_PER_SECOND;
        const stockCpu = stockPid ? (cpuTicks(stockPid) - stock0) / TICKS_PER_SECOND : 0;
        const metrics1 = variant.metrics
          ? ((await (await fetch(`http://127.0.0.1:${variant.port}/metrics`)).json()) as { exchanges: number })
          : undefined;
        const mem = memoryKb(pid);
        const sample: Sample = {
          ...result,
          cpuUsPerCall: (cpu * 1e6) / Math.max(1, result.requests),
          rssMb: mem.rss / 1024,
          peakRssMb: mem.peak / 1024,
          ...(variant.metrics
            ? {
                stockCpuUsPerCall: (stockCpu * 1e6) / Math.max(1, result.requests),
                exchangesPerCall:
                  ((metrics1?.exchanges ?? 0) - (metrics0?.exchanges ?? 0)) / Math.max(1, result.requests),
              }
            : {}),
        };
        samples.get(variant.id)?.push(sample);
        log(
          `round ${round} ${variant.label.padEnd(52)} ${Math.round(sample.rps).toString().padStart(6)} req/s  cpu ${Math.round(sample.cpuUsPerCall)} µs/call  p99 ${sample.p99.toFixed(1)} ms  errors ${sample.errors}`,
        );
      }
    }

    // Soak: our warm variant for SOAK seconds, then RSS.
    let soak: { seconds: number; rps: number; rssMbAfter: number; peakRssMb: number; errors: number } | undefined;
    if (SOAK > 0) {
      const port = base + 4;
      const pid = processes.get(port)?.pid as number;
      const result = await wrk(
        `http://localhost:${port}/mcp`,
        luaScript(legacyBody, { ...legacyHeaders, ...auth }),
        SOAK,
      );
      const mem = memoryKb(pid);
      soak = {
        seconds: SOAK,
        rps: result.rps,
        rssMbAfter: mem.rss / 1024,
        peakRssMb: mem.peak / 1024,
        errors: result.errors,
      };
      log(
        `soak ${SOAK} s: ${Math.round(result.rps)} req/s, RSS after ${soak.rssMbAfter.toFixed(0)} MB (peak ${soak.peakRssMb.toFixed(0)} MB), errors ${result.errors}`,
      );
    }

    // Keycloak's token-exchange latency, sequential.
    const exchangeCount = smoke ? 20 : 200;
    const config = await oidc.discovery(
      new URL(urls.issuer),
      urls.mcp,
      MCP_SERVER_CLIENT.secret,
      oidc.ClientSecretBasic(MCP_SERVER_CLIENT.secret),
      { execute: [oidc.allowInsecureRequests] },
    );
    const latencies: number[] = [];
    for (let i = 0; i < exchangeCount; i += 1) {
      const t0 = performance.now();
      await oidc.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
        subject_token: token,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'stock-api',
        scope: 'trade:read',
      });
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number;
    const exchangeLatency = { count: exchangeCount, p50Ms: q(0.5), p99Ms: q(0.99) };
    log(
      `Keycloak token exchange over ${exchangeCount}: p50 ${exchangeLatency.p50Ms.toFixed(1)} ms, p99 ${exchangeLatency.p99Ms.toFixed(1)} ms`,
    );

    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.floor(s.length / 2)] as number;
    };
    const summary = Object.fromEntries(
      variants.map((v) => {
        const list = samples.get(v.id) ?? [];
        const pick = (key: keyof Sample) => median(list.map((s) => Number(s[key] ?? 0)));
        return [
          v.id,
          {
            label: v.label,
            rounds: list.length,
            rps: pick('rps'),
            p50Ms: pick('p50'),
            p90Ms: pick('p90'),
            p99Ms: pick('p99'),
            cpuUsPerCall: pick('cpuUsPerCall'),
            rssMb: pick('rssMb'),
            peakRssMb: pick('peakRssMb'),
            errors: list.reduce((a, s) => a + s.errors, 0),
            ...(v.metrics
              ? { stockCpuUsPerCall: pick('stockCpuUsPerCall'), exchangesPerCall: pick('exchangesPerCall') }
              : {}),
          },
        ];
      }),
    ) as Record<
      string,
      { label: string; rps: number; cpuUsPerCall: number; p99Ms: number; errors: number; peakRssMb: number }
    >;
    const r = (a: string, b: string) => (summary[a]?.rps ?? 0) / Math.max(1e-9, summary[b]?.rps ?? 0);
    const ratios = {
      warmVsSdkDefault: r('oursWarm', 'sdkDefault'),
      warmModernVsSdkDefaultModern: r('oursWarmModern', 'sdkDefaultModern'),
      warmVsRaw: r('oursWarm', 'raw'),
      sdkDefaultVsRaw: r('sdkDefault', 'raw'),
      noAuthVsWarm: r('oursNoAuth', 'oursWarm'),
      noCacheVsWarm: r('oursNoCache', 'oursWarm'),
    };
    const warm = summary.oursWarm;
    const goal = {
      throughput5xSdkDefault: ratios.warmVsSdkDefault >= 5,
      cpuPerCallAtMost150us: (warm?.cpuUsPerCall ?? Infinity) <= 150,
      p99AtMost50ms: (warm?.p99Ms ?? Infinity) <= 50,
      rssAtMost250MbAfterSoak: soak ? soak.rssMbAfter <= 250 : null,
      zeroErrors: (warm?.errors ?? 1) === 0 && (summary.oursWarmModern?.errors ?? 1) === 0,
    };
    const testStages = existsSync(join(repoRoot, 'test-results', 'stages.json'))
      ? JSON.parse(readFileSync(join(repoRoot, 'test-results', 'stages.json'), 'utf8'))
      : null;
    const result = {
      startedAt: startedAt.toISOString(),
      smoke,
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      settings: {
        rounds: ROUNDS,
        seconds: SECONDS,
        warmupSeconds: WARMUP,
        connections: CONNECTIONS,
        soakSeconds: SOAK,
        loadGenerator: 'wrk -t2 on loopback',
      },
      variants: summary,
      ratios,
      goal,
      soak,
      keycloakExchangeLatency: exchangeLatency,
      testStages,
    };
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const outDir = join(repoRoot, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${smoke ? 'smoke-' : ''}${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    writeReport(file, result);
    log(`\nwarm vs SDK default: ${ratios.warmVsSdkDefault.toFixed(2)}x   results: ${file}`);
  } finally {
    for (const child of processes.values()) child.kill('SIGTERM');
    await stack.stop?.();
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof StackError)) throw error;
  console.error(`ERROR (${error.code}): ${error.toUserString()}`);
  process.exitCode = 1;
}
