// Native provider: Keycloak (Java), Redis, the stock API and the MCP server as local processes.
// Every process is started in its own process group and recorded in .run/<name>/state.json, so `down`
// stops exactly what `up` started, even from another shell.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { findJava } from './java.ts';
import { ensureKeycloakDist } from './keycloak-dist.ts';
import { realmFile, repoRoot, runDir } from './paths.ts';
import { assertPortsFree } from './ports.ts';
import { pingRedis } from './redis.ts';
import { stackSettings } from './settings.ts';
import {
  ADMIN,
  MCP_SERVER_CLIENT,
  REALM,
  STOCK_API_AUDIENCE,
  urlsFor,
  type RunningStack,
  type ServiceName,
  type StackSpec,
} from './spec.ts';
import { ensureStateKey, machineClientEnv } from './secrets.ts';
import { ensureSandboxTls, getFromClientDocs, writeJvmHostsFile } from './tls.ts';
import { waitForHttp } from './wait.ts';

interface ProcessRecord {
  service: ServiceName;
  pid: number;
  log: string;
}
interface StateFile {
  provider: 'native';
  spec: StackSpec;
  startedAt: string;
  processes: ProcessRecord[];
}

type Log = (line: string) => void;
const ALL: readonly ServiceName[] = ['keycloak', 'redis', 'stock-api', 'mcp-server', 'client-docs', 'approval-device'];

function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startProcess(
  dir: string,
  service: ServiceName,
  command: string,
  args: string[],
  env: Record<string, string>,
): ProcessRecord {
  const log = join(dir, 'logs', `${service}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(command, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...stackSettings().env, ...env },
  });
  closeSync(fd);
  if (child.pid === undefined)
    throw new StackError(
      'service_failed',
      `Could not start ${service} (${command})`,
      `check that ${command} exists and is executable`,
    );
  child.unref();
  return { service, pid: child.pid, log };
}

function saveState(dir: string, state: StateFile): void {
  writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export function readState(name: string): StateFile | undefined {
  const file = join(runDir(name), 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StateFile) : undefined;
}

/** Stops every process a native `up` recorded for this stack name; returns what it stopped. */
export async function stopNative(name: string, log: Log = () => {}): Promise<string[]> {
  const state = readState(name);
  if (!state) return [];
  const stopped: string[] = [];
  for (const record of [...state.processes].reverse()) {
    if (!alive(record.pid)) continue;
    try {
      process.kill(-record.pid, 'SIGTERM');
    } catch {
      try {
        process.kill(record.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    stopped.push(`${record.service} (pid ${record.pid})`);
  }
  const deadline = Date.now() + 20_000;
  for (const record of state.processes) {
    while (alive(record.pid) && Date.now() < deadline) await sleep(200);
    if (alive(record.pid)) {
      log(`  ${record.service} ignored SIGTERM; sending SIGKILL`);
      try {
        process.kill(-record.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  rmSync(join(runDir(name), 'state.json'), { force: true });
  return stopped;
}

/** Each Node service's environment in a native stack (tests start a second MCP replica with the same `mcp`). */
export function nodeServiceEnv(spec: StackSpec): Record<'stock' | 'mcp' | 'docs' | 'device', Record<string, string>> {
  const urls = urlsFor(spec.ports);
  const tls = ensureSandboxTls();
  const jwks = `${urls.issuer}/protocol/openid-connect/certs`;
  return {
    stock: {
      PORT: String(spec.ports.stockApi),
      HOST: '127.0.0.1',
      ISSUER_URL: urls.issuer,
      JWKS_URL: jwks,
      AUDIENCE: STOCK_API_AUDIENCE,
      EXCHANGE_CLIENT_ID: urls.mcp,
      ...spec.stockEnv,
    },
    mcp: {
      PORT: String(spec.ports.mcp),
      HOST: '127.0.0.1',
      ISSUER_URL: urls.issuer,
      KEYCLOAK_INTERNAL_URL: urls.keycloak,
      MCP_RESOURCE_URL: urls.mcp,
      CLIENT_ID: urls.mcp,
      CLIENT_SECRET: MCP_SERVER_CLIENT.secret,
      STOCK_API_URL: urls.stockApi,
      STOCK_API_AUDIENCE,
      REDIS_URL: urls.redis,
      REDIS_KEY_PREFIX: `mcp:${spec.name}:`,
      APPROVAL_DEVICE_URL: urls.approvalDevice,
      STATE_KEY: ensureStateKey(),
      ...spec.serverEnv,
    },
    docs: {
      PORT: String(spec.ports.clientDocs),
      HOST: '127.0.0.1',
      PUBLIC_URL: urls.clientDocs,
      TLS_CERT_FILE: tls.cert,
      TLS_KEY_FILE: tls.key,
    },
    device: {
      PORT: String(spec.ports.approvalDevice),
      HOST: '127.0.0.1',
      // Users sign in with the realm (client approval-device, redirect <PUBLIC_URL>/callback); Keycloak's channel
      // token is verified against the issuer's keys and must come from the MCP server's client.
      PUBLIC_URL: urls.approvalDevice,
      ISSUER_URL: urls.issuer,
      CIBA_CLIENT_IDS: urls.mcp,
      KEYCLOAK_CALLBACK_URL: `${urls.issuer}/protocol/openid-connect/ext/ciba/auth/callback`,
    },
  };
}

export async function startNative(spec: StackSpec, log: Log = () => {}): Promise<RunningStack> {
  const started = performance.now();
  const services = spec.services ?? ALL;
  const dir = runDir(spec.name);
  const urls = urlsFor(spec.ports);
  const notes: string[] = [];
  const timings: Record<string, number> = {};

  const existing = readState(spec.name);
  if (existing?.processes.some((p) => alive(p.pid))) {
    throw new StackError(
      'port_taken',
      `A stack named "${spec.name}" is already running (${existing.processes.map((p) => `${p.service}:${p.pid}`).join(', ')})`,
      spec.name === 'up' ? 'run `make down` first' : `stop it with: node stack/src/cli.ts down --name ${spec.name}`,
    );
  }
  const portsToCheck: Record<string, number> = {};
  if (services.includes('keycloak'))
    Object.assign(portsToCheck, {
      keycloak: spec.ports.keycloak,
      'keycloak management': spec.ports.keycloakManagement,
    });
  if (services.includes('stock-api')) portsToCheck['stock API'] = spec.ports.stockApi;
  if (services.includes('mcp-server')) portsToCheck['MCP server'] = spec.ports.mcp;
  if (services.includes('client-docs')) portsToCheck['client-docs'] = spec.ports.clientDocs;
  if (services.includes('approval-device')) portsToCheck['approval-device'] = spec.ports.approvalDevice;
  await assertPortsFree(
    portsToCheck,
    spec.name === 'up' ? 'stop whatever holds it (`make down` if it is an earlier sandbox)' : 'stop the other run',
  );

  mkdirSync(join(dir, 'logs'), { recursive: true });
  const state: StateFile = { provider: 'native', spec, startedAt: new Date().toISOString(), processes: [] };
  const stack: RunningStack = {
    provider: 'native',
    spec,
    urls,
    timings,
    notes,
    stop: async () => {
      await stopNative(spec.name, log);
    },
  };

  try {
    // Redis: reuse a running one, else start redis-server if the machine has it.
    if (services.includes('redis')) {
      if (await pingRedis(spec.ports.redis)) {
        notes.push(
          `Redis: using the one already running on 127.0.0.1:${spec.ports.redis} (keys prefixed mcp:${spec.name}:)`,
        );
      } else if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0) {
        const record = startProcess(
          dir,
          'redis',
          'redis-server',
          ['--port', String(spec.ports.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          {},
        );
        state.processes.push(record);
        saveState(dir, state);
        notes.push(`Redis: started redis-server on 127.0.0.1:${spec.ports.redis} (pid ${record.pid})`);
      } else {
        throw new StackError(
          'service_failed',
          `No Redis answers on 127.0.0.1:${spec.ports.redis} and redis-server is not installed`,
          'install Redis (apt-get install redis-server) or start one on that port; the MCP server also runs without Redis (in-memory cache) if you drop it from the services',
        );
      }
    }

    let keycloakPid: number | undefined;
    if (services.includes('keycloak')) {
      const java = findJava();
      notes.push(`Java: ${java.path} (Java ${java.major}, found via ${java.source})`);
      const fetchStart = performance.now();
      const dist = await ensureKeycloakDist(java, log);
      timings['keycloak fetch'] = Math.round(performance.now() - fetchStart) / 1000;
      notes.push(
        `Keycloak ${dist.version}: ${dist.fetchedNow ? `fetched via ${dist.via} and built` : 'from cache'} (${dist.home})`,
      );
      const home = join(dir, 'keycloak');
      rmSync(home, { recursive: true, force: true });
      cpSync(dist.home, home, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      mkdirSync(join(home, 'data', 'import'), { recursive: true });
      copyFileSync(realmFile, join(home, 'data', 'import', 'sandbox-realm.json'));
      // CIMD: Keycloak fetches client metadata documents from client-docs over HTTPS, trusting the local CA.
      const tls = ensureSandboxTls();
      const hostsFile = writeJvmHostsFile(join(dir, 'jvm-hosts'));
      const record = startProcess(
        dir,
        'keycloak',
        join(home, 'bin', 'kc.sh'),
        [
          'start',
          '--optimized',
          '--import-realm',
          '--http-enabled=true',
          `--http-port=${spec.ports.keycloak}`,
          `--http-management-port=${spec.ports.keycloakManagement}`,
          `--hostname=${urls.keycloak}`,
          '--hostname-backchannel-dynamic=true',
          '--log-console-output=default',
          `--truststore-paths=${tls.caCert}`,
          // CIBA: Keycloak sends each authentication request to the approval device (keycloak/README.md, "CIBA").
          `--spi-ciba-auth-channel--ciba-http-auth-channel--http-authentication-channel-uri=${urls.approvalDevice}/ciba/requests`,
        ],
        {
          JAVA: java.path,
          JAVA_OPTS_APPEND: `-Djdk.net.hosts.file=${hostsFile}`,
          JAVA_OPTS_KC_HEAP: '-Xms128m -Xmx768m',
          KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
          KC_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
          MCP_RESOURCE_URL: urls.mcp,
          MCP_EXPLORER_URL: `${urls.mcpOrigin}/explorer`,
          // CIMD: the exact origin and path prefix the realm trusts for client IDs (keycloak/README.md, "CIMD").
          MCP_CIMD_DOCUMENT_PREFIX: `${urls.clientDocs}/clients/`,
          APPROVAL_DEVICE_URL: urls.approvalDevice,
          MCP_SERVER_CLIENT_SECRET: MCP_SERVER_CLIENT.secret,
          // The machine clients' generated secret and public key (stack/src/secrets.ts).
          ...machineClientEnv(),
          MCP_EXCHANGED_TOKEN_LIFESPAN: String(spec.exchangedTokenLifespan ?? 300),
          ...(spec.cibaExpiresIn ? { MCP_CIBA_EXPIRES_IN: String(spec.cibaExpiresIn) } : {}),
        },
      );
      state.processes.push(record);
      saveState(dir, state);
      keycloakPid = record.pid;
    }

    const env = nodeServiceEnv(spec);
    const waits: Array<Promise<void>> = [];
    const node = process.execPath;
    const launch = (
      service: ServiceName,
      script: string,
      serviceEnv: Record<string, string>,
      health: string,
      probe?: () => Promise<boolean>,
    ) => {
      const record = startProcess(dir, service, node, [join(repoRoot, script)], serviceEnv);
      state.processes.push(record);
      saveState(dir, state);
      waits.push(
        waitForHttp({
          url: health,
          probe,
          service,
          timeoutMs: 30_000,
          isAlive: () => alive(record.pid),
          logTail: () => tail(record.log),
        }).then((seconds) => {
          timings[service] = seconds;
        }),
      );
    };
    if (services.includes('stock-api'))
      launch('stock-api', 'mock-stock-api/src/main.ts', env.stock, `${urls.stockApi}/healthz`);
    if (services.includes('mcp-server'))
      launch('mcp-server', 'server/src/main.ts', env.mcp, `${urls.mcpOrigin}/healthz`);
    // Ready when it answers over HTTPS with a certificate the local CA vouches for, as Keycloak will check it.
    if (services.includes('approval-device'))
      launch('approval-device', 'approval-device/src/main.ts', env.device, `${urls.approvalDevice}/healthz`);
    if (services.includes('client-docs'))
      launch('client-docs', 'client-docs/src/main.ts', env.docs, `${urls.clientDocs}/healthz`, async () => {
        const ca = ensureSandboxTls().caCert;
        return (await getFromClientDocs(spec.ports.clientDocs, '/healthz', ca)).status === 200;
      });

    if (keycloakPid !== undefined) {
      const kcLog = join(dir, 'logs', 'keycloak.log');
      const pid = keycloakPid;
      waits.push(
        waitForHttp({
          url: `${urls.keycloakManagement}/health/ready`,
          service: 'keycloak',
          timeoutMs: stackSettings().readyTimeoutMs,
          isAlive: () => alive(pid),
          logTail: () => tail(kcLog),
          progress: log,
        }).then(async (seconds) => {
          timings.keycloak = seconds;
          // Ready means the realm import finished too; check the realm answers, so a broken import is caught here.
          const realm = await fetch(`${urls.issuer}/.well-known/openid-configuration`);
          if (!realm.ok)
            throw new StackError(
              'service_failed',
              `Keycloak is up but realm "${REALM}" answers ${realm.status}: the import failed.\n${tail(kcLog)}`,
              'check keycloak/realm/sandbox-realm.json (see keycloak/README.md)',
            );
        }),
      );
    }
    await Promise.all(waits);
    timings.total = Math.round(performance.now() - started) / 1000;
    return stack;
  } catch (error) {
    await stopNative(spec.name, log);
    throw error;
  }
}
