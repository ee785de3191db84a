// Static checks of docker-compose.yml (the Dockerfiles: dockerfiles.test.ts). No Docker engine needed:
// these run in the unit stage on machines that have none, so the compose path stays correct by construction.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { loadConfig as loadApprovalDeviceConfig } from '../../approval-device/src/config.ts';
import { loadConfig as loadClientDocsConfig } from '../../client-docs/src/config.ts';
import { loadConfig as loadServerConfig } from '../../server/src/config.ts';
import {
  CONFIG_VARIABLES as STOCK_API_VARIABLES,
  loadConfig as loadStockApiConfig,
} from '../../mock-stock-api/src/config.ts';
import {
  commandArgs,
  compose,
  composePath,
  environment,
  healthcheckArgv,
  ports,
  raw,
  service,
  SERVICES,
  urls,
} from './compose-file.testing.ts';
import { KEYCLOAK_FEATURE_OPTIONS, KEYCLOAK_HARDENING_OPTIONS } from './keycloak-dist.ts';
import { realmFile, repoRoot } from './paths.ts';
import { CLIENT_DOCS_HOST, DEFAULT_PORTS, MCP_SERVER_CLIENT, REALM, STOCK_API_AUDIENCE } from './spec.ts';
import { pins } from './versions.ts';

/** Starts an HTTP server on 127.0.0.1 answering every request with `status`; returns its port and a closer. */
async function httpStub(status: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ status: status === 200 ? 'UP' : 'DOWN', checks: [] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

function run(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  return new Promise((done, fail) => {
    const child = spawn(command as string, args, { stdio: 'ignore', timeout: 10_000 });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? -1));
  });
}

/** Runs a service's healthcheck command (with its port swapped for a stub's) against a stub answering 200, then 503. */
async function assertHealthcheckFollowsStatus(
  name: string,
  swapPort: (argv: string[], port: number) => string[],
): Promise<void> {
  for (const [status, healthy] of [
    [200, true],
    [503, false],
  ] as const) {
    const stub = await httpStub(status);
    try {
      const argv = swapPort(healthcheckArgv(name), stub.port);
      const code = await run(argv);
      assert.equal(code === 0, healthy, `${name} healthcheck exited ${code} for HTTP ${status}`);
    } finally {
      await stub.close();
    }
  }
}

/** Finds an installed package's directory the way Node resolves it from `fromDir` (nearest node_modules upward). */
function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

describe('docker-compose.yml', () => {
  it('defines exactly the six sandbox services', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [...SERVICES].sort());
  });

  it('opens with a "demo only" banner', () => {
    const banner = raw.split('\n').slice(0, 3).join('\n');
    assert.match(banner, /^# DEMO ONLY\b/i);
  });

  it('puts a one-line role comment above each service', () => {
    const lines = raw.split('\n');
    for (const name of SERVICES) {
      const at = lines.indexOf(`  ${name}:`);
      assert.ok(at > 0, `service "${name}" is not a two-space-indented key`);
      assert.match(
        lines[at - 1] ?? '',
        new RegExp(`^  # ${name}: \\S.{15,}`),
        `the line above "${name}:" must be "  # ${name}: <its role>"`,
      );
      assert.doesNotMatch(lines[at - 2] ?? '', /^\s*#/, `the role comment above "${name}:" must be one line`);
    }
  });

  it('validates against the Compose Specification schema', (t: TestContext) => {
    // The schema ships with the docker-compose package (a testcontainers dependency); ajv comes with the MCP SDK.
    const e2eDir = join(repoRoot, 'e2e');
    const testcontainers = packageDir('testcontainers', e2eDir);
    const dockerCompose = testcontainers && packageDir('docker-compose', testcontainers);
    const sdk = packageDir('@modelcontextprotocol/sdk', e2eDir);
    const ajvDir = sdk && packageDir('ajv', sdk);
    const schemaFile = dockerCompose && join(dockerCompose, 'schema', 'compose-spec.json');
    if (!schemaFile || !existsSync(schemaFile) || !ajvDir) {
      t.skip('the compose-spec schema (docker-compose package) or ajv is not installed; run npm ci');
      return;
    }
    const ajvModule = createRequire(import.meta.url)(ajvDir) as { default?: unknown };
    const Ajv = (ajvModule.default ?? ajvModule) as new (options: object) => {
      compile(
        schema: object,
      ): ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
    };
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    delete schema.$schema; // draft-07 under an https URL that ajv does not know by that name
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    const valid = validate(compose);
    assert.ok(valid, `schema errors: ${JSON.stringify(validate.errors?.map((e) => `${e.instancePath} ${e.message}`))}`);
    // And the validator is not vacuous: a misspelt healthcheck key fails it.
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, { healthcheck: Record<string, unknown> }>;
    };
    (broken.services.redis as { healthcheck: Record<string, unknown> }).healthcheck.intervall = '1s';
    assert.equal(validate(broken), false);
  });

  it('is accepted by `docker compose config` (no engine needed)', (t: TestContext) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 15_000 });
    if (version.error) {
      t.skip(`docker client not installed (${version.error.message}); the schema test covers the file`);
      return;
    }
    if (version.status !== 0) {
      t.skip(
        'the docker client has no compose plugin here (`docker compose version` fails); the schema test covers the file',
      );
      return;
    }
    const machine = {
      SANDBOX_BOT_SECRET: 'a'.repeat(64),
      SANDBOX_BOT_PUBLIC_KEY: 'MIIB',
      SANDBOX_BOT_KID: 'kid',
      SANDBOX_WORKLOAD_PUBLIC_KEY: 'MIIB',
      SANDBOX_WORKLOAD_KID: 'kid',
    };
    const result = spawnSync('docker', ['compose', '-f', composePath, 'config', '--quiet'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, ...machine },
    });
    assert.equal(result.status, 0, result.stderr);
    // Without them compose refuses and names them: the realm would otherwise import a literal placeholder as a secret.
    const bare = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !/^SANDBOX_(BOT|WORKLOAD)_/.test(key)),
    );
    const refused = spawnSync('docker', ['compose', '-f', composePath, 'config', '--quiet'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: bare,
    });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /SANDBOX_(BOT|WORKLOAD)_\w+.*make up passes the generated machine-client credentials/);
  });

  /** `${KEYCLOAK_IMAGE:-quay.io/keycloak/keycloak:x.y.z}` → the variable and the upstream default. */
  const override = (image: string | undefined) => /^\$\{([A-Z_]+):-([^}]+)\}$/.exec(image ?? '') ?? undefined;

  it('lets every pulled image be replaced through a variable (KEYCLOAK_IMAGE, REDIS_IMAGE), defaulting to upstream', () => {
    assert.equal(override(service('keycloak').image)?.[1], 'KEYCLOAK_IMAGE');
    assert.equal(override(service('redis').image)?.[1], 'REDIS_IMAGE');
    assert.match(override(service('redis').image)?.[2] ?? '', /^redis:/);
  });

  it('passes NODE_IMAGE and the optional extra_ca secret to both service builds, the secret defaulting to an empty file', () => {
    for (const name of ['mcp-server', 'stock-api'] as const) {
      const build = service(name).build as { args?: unknown; secrets?: unknown };
      assert.deepEqual(build.args, ['NODE_IMAGE'], `${name}: build.args`);
      assert.deepEqual(build.secrets, ['extra_ca'], `${name}: build.secrets`);
    }
    const secret = (compose as unknown as { secrets: Record<string, { file: string }> }).secrets.extra_ca;
    const fallback = /^\$\{EXTRA_CA_CERTS:-([^}]+)\}$/.exec(secret?.file ?? '')?.[1];
    assert.ok(fallback, `secrets.extra_ca.file must be \${EXTRA_CA_CERTS:-<empty file>}, is ${secret?.file}`);
    assert.equal(readFileSync(join(repoRoot, fallback), 'utf8'), '', `${fallback} must exist and be empty`);
  });

  it('pins every image to an explicit version, and builds the rest from a Dockerfile that exists', () => {
    for (const name of SERVICES) {
      const { build } = service(name);
      const image = override(service(name).image)?.[2] ?? service(name).image;
      if (image === undefined) {
        assert.ok(
          build && typeof build === 'object' && build.dockerfile,
          `${name} has neither image nor build.dockerfile`,
        );
        assert.equal(
          resolve(repoRoot, build.context ?? '.'),
          repoRoot,
          `${name} must build from the repository root (the lockfile lives there)`,
        );
        assert.ok(existsSync(join(repoRoot, build.dockerfile)), `${name}: ${build.dockerfile} does not exist`);
        continue;
      }
      const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
      assert.ok(tag, `${name}: image "${image}" has no tag`);
      assert.notEqual(tag, 'latest', `${name}: image "${image}" uses latest`);
      assert.match(
        tag,
        /^\d+\.\d+\.\d+(-[a-z0-9.]+)?$/,
        `${name}: image "${image}" must be pinned to a full version (x.y.z)`,
      );
    }
  });

  it('pins Keycloak to the version in keycloak/version.json', () => {
    assert.equal(override(service('keycloak').image)?.[2], `quay.io/keycloak/keycloak:${pins.keycloak}`);
  });

  it('gives every service a healthcheck', () => {
    for (const name of SERVICES) {
      const check = service(name).healthcheck;
      assert.ok(check?.test && check.disable !== true, `${name} has no healthcheck`);
      assert.notDeepEqual(check.test, ['NONE'], `${name} disables its image's healthcheck`);
    }
  });

  it('gates every depends_on on service_healthy', () => {
    const expected: Record<string, string[]> = {
      'stock-api': ['keycloak'],
      'mcp-server': ['keycloak', 'redis', 'stock-api'],
    };
    for (const name of SERVICES) {
      const dependsOn = service(name).depends_on ?? {};
      assert.ok(!Array.isArray(dependsOn), `${name}: the list form of depends_on only waits for "started"`);
      for (const [dependency, options] of Object.entries(dependsOn)) {
        assert.equal(options.condition, 'service_healthy', `${name} → ${dependency} must wait for service_healthy`);
      }
      assert.deepEqual(Object.keys(dependsOn).sort(), expected[name] ?? [], `${name} depends on the wrong services`);
    }
  });

  it('binds every published port to 127.0.0.1 and publishes the default ports', () => {
    for (const name of SERVICES) {
      for (const port of ports(name))
        assert.equal(port.hostIp, '127.0.0.1', `${name}: port ${port.published} is published on every interface`);
    }
    assert.deepEqual(
      ports('keycloak').map((p) => [p.published, p.target]),
      [
        [DEFAULT_PORTS.keycloak, 8080],
        [DEFAULT_PORTS.keycloakManagement, 9000],
      ],
    );
    assert.deepEqual(
      ports('stock-api').map((p) => [p.published, p.target]),
      [[DEFAULT_PORTS.stockApi, 4000]],
    );
    assert.deepEqual(
      ports('mcp-server').map((p) => [p.published, p.target]),
      [[DEFAULT_PORTS.mcp, 3000]],
    );
    assert.deepEqual(
      ports('client-docs').map((p) => [p.published, p.target]),
      [[DEFAULT_PORTS.clientDocs, 8443]],
    );
    assert.deepEqual(
      ports('approval-device').map((p) => [p.published, p.target]),
      [[DEFAULT_PORTS.approvalDevice, 4100]],
    );
    assert.deepEqual(ports('redis'), [], 'redis is internal: publishing 6379 would clash with a Redis on the host');
  });

  it("sends Keycloak's CIBA requests to the approval device, and its decisions back to Keycloak", () => {
    assert.ok(
      commandArgs('keycloak').includes(
        '--spi-ciba-auth-channel--ciba-http-auth-channel--http-authentication-channel-uri=http://approval-device:4100/ciba/requests',
      ),
    );
    const env = environment('approval-device');
    const config = loadApprovalDeviceConfig(env);
    assert.equal(
      config.KEYCLOAK_CALLBACK_URL,
      `http://keycloak:8080/realms/${REALM}/protocol/openid-connect/ext/ciba/auth/callback`,
    );
    // Keycloak's channel token carries the public issuer; its keys come over the back channel.
    assert.equal(config.ISSUER_URL, urls.issuer);
    assert.equal(config.jwksUrl, `http://keycloak:8080/realms/${REALM}/protocol/openid-connect/certs`);
    assert.deepEqual(config.CIBA_CLIENT_IDS, [environment('mcp-server').CLIENT_ID]);
    // Keycloak posts to http://approval-device:4100: the Host guard must let that name in, and the host's names.
    for (const host of ['approval-device', 'localhost', '127.0.0.1'])
      assert.ok(config.ALLOWED_HOSTS.includes(host), `approval-device ALLOWED_HOSTS lacks ${host}`);
  });

  it('signs users in on the approval device with the realm client whose redirect URI Keycloak was given', () => {
    const config = loadApprovalDeviceConfig(environment('approval-device'));
    assert.equal(config.PUBLIC_URL, urls.approvalDevice);
    assert.equal(environment('keycloak').APPROVAL_DEVICE_URL, config.PUBLIC_URL);
    const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as {
      clients: Array<{ clientId: string; redirectUris?: string[]; publicClient?: boolean }>;
    };
    const client = realm.clients.find((c) => c.clientId === config.CLIENT_ID);
    assert.equal(client?.publicClient, true, `the realm has no public client ${config.CLIENT_ID}`);
    assert.deepEqual(client?.redirectUris, ['${APPROVAL_DEVICE_URL:http://localhost:4100}/callback']);
    assert.equal(config.redirectUri, `${environment('keycloak').APPROVAL_DEVICE_URL}/callback`);
  });

  it('serves CIMD documents as client-docs.localhost inside the network, with the CA Keycloak trusts', () => {
    const networks = service('client-docs').networks;
    assert.ok(networks && !Array.isArray(networks), 'client-docs needs networks.default.aliases');
    assert.deepEqual(networks.default?.aliases, [CLIENT_DOCS_HOST]);
    assert.equal(loadClientDocsConfig(environment('client-docs')).PUBLIC_URL, urls.clientDocs);
    const tlsMount = (name: string, target: string) =>
      (service(name).volumes ?? []).map(String).find((mount) => mount.split(':')[1] === target);
    assert.equal(tlsMount('client-docs', '/tls'), './.run/tls:/tls:ro');
    assert.equal(
      tlsMount('keycloak', '/opt/keycloak/conf/sandbox-tls'),
      './.run/tls:/opt/keycloak/conf/sandbox-tls:ro',
    );
    assert.ok(commandArgs('keycloak').includes('--truststore-paths=/opt/keycloak/conf/sandbox-tls/ca.crt'));
    for (const key of ['TLS_CERT_FILE', 'TLS_KEY_FILE'])
      assert.match(environment('client-docs')[key] ?? '', /^\/tls\/client-docs\.(crt|key)$/, key);
  });

  it('mounts the repository realm file read-only into the import directory', () => {
    const mounts = (service('keycloak').volumes ?? []).map(String);
    const realmMount = mounts.find((mount) => mount.split(':')[1] === '/opt/keycloak/data/import/sandbox-realm.json');
    assert.ok(realmMount, 'keycloak does not mount the realm at /opt/keycloak/data/import/sandbox-realm.json');
    const [source, , mode] = realmMount.split(':');
    assert.equal(resolve(repoRoot, source ?? ''), realmFile);
    assert.ok(existsSync(realmFile), `${realmFile} does not exist`);
    assert.equal(mode, 'ro');
  });

  it('runs Keycloak in dev mode with one public hostname, dynamic back channel, health and realm import', () => {
    const args = commandArgs('keycloak');
    assert.equal(args[0], 'start-dev');
    for (const flag of [
      '--import-realm',
      '--health-enabled=true',
      `--hostname=${urls.keycloak}`,
      '--hostname-backchannel-dynamic=true',
      ...KEYCLOAK_HARDENING_OPTIONS,
      ...KEYCLOAK_FEATURE_OPTIONS,
    ]) {
      assert.ok(args.includes(flag), `keycloak command lacks ${flag}`);
    }
  });

  it('sets only Keycloak variables the realm file actually reads', () => {
    const realm = readFileSync(realmFile, 'utf8');
    for (const key of Object.keys(environment('keycloak'))) {
      if (key.startsWith('KC_BOOTSTRAP_ADMIN_')) continue;
      assert.ok(
        realm.includes(`\${${key}:`) || realm.includes(`\${${key}}`),
        `${key} is set for keycloak but the realm has no \${${key}:…} placeholder`,
      );
    }
    const env = environment('keycloak');
    assert.equal(env.MCP_RESOURCE_URL, urls.mcp);
    assert.equal(env.MCP_SERVER_CLIENT_SECRET, MCP_SERVER_CLIENT.secret);
  });

  it('trusts the fixed network gateway as the anonymous-DCR host', () => {
    const ipam = compose.networks?.default?.ipam?.config?.[0];
    assert.ok(ipam?.subnet && ipam.gateway, 'the default network needs a fixed subnet and gateway');
    const [network, bits] = ipam.subnet.split('/');
    const toInt = (ip: string) => ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
    const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
    assert.equal(
      (toInt(ipam.gateway) & mask) >>> 0,
      (toInt(network ?? '') & mask) >>> 0,
      'gateway is outside the subnet',
    );
    assert.equal(environment('keycloak').KC_DCR_TRUSTED_HOST, ipam.gateway);
  });

  it('configures mcp-server with keys its loadConfig accepts and values that match the stack', () => {
    const env = environment('mcp-server');
    const config = loadServerConfig(env) as unknown as Record<string, unknown>;
    // loadConfig keeps exactly its schema's keys, so a set key missing from the result is one it ignores (a typo).
    for (const key of Object.keys(env))
      assert.ok(Object.hasOwn(config, key), `mcp-server: ${key} is not a setting of server/src/config.ts`);
    assert.ok(!Object.hasOwn(loadServerConfig({ ...env, NOT_A_SETTING: 'x' }), 'NOT_A_SETTING'));
    const kc = environment('keycloak');
    assert.equal(env.ISSUER_URL, urls.issuer);
    assert.equal(
      env.MCP_RESOURCE_URL,
      kc.MCP_RESOURCE_URL,
      'the audience Keycloak mints must be the resource the server serves',
    );
    assert.equal(env.CLIENT_SECRET, kc.MCP_SERVER_CLIENT_SECRET, 'the exchange client secret must match the realm');
    assert.equal(
      env.CLIENT_ID,
      env.MCP_RESOURCE_URL,
      "the exchange client's ID is the MCP resource URL (the realm names it so)",
    );
    assert.equal(env.KEYCLOAK_INTERNAL_URL, 'http://keycloak:8080');
    assert.equal(env.STOCK_API_URL, 'http://stock-api:4000');
    assert.equal(env.STOCK_API_AUDIENCE, STOCK_API_AUDIENCE);
    assert.equal(env.REDIS_URL, 'redis://redis:6379');
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(Number(env.PORT), ports('mcp-server')[0]?.target);
    const allowed = config.ALLOWED_HOSTS as string[];
    for (const host of ['localhost', '127.0.0.1', 'mcp-server'])
      assert.ok(allowed.includes(host), `ALLOWED_HOSTS lacks ${host}`);
  });

  it('configures stock-api with keys its loadConfig accepts and values that match the stack', () => {
    const env = environment('stock-api');
    for (const key of Object.keys(env))
      assert.ok(
        (STOCK_API_VARIABLES as readonly string[]).includes(key),
        `stock-api: ${key} is not a setting of mock-stock-api/src/config.ts`,
      );
    const config = loadStockApiConfig(env);
    assert.equal(config.ISSUER_URL, urls.issuer);
    assert.equal(
      config.ISSUER_URL,
      environment('mcp-server').ISSUER_URL,
      'both services must expect the same public issuer',
    );
    assert.equal(config.JWKS_URL, `http://keycloak:8080/realms/${REALM}/protocol/openid-connect/certs`);
    assert.equal(config.AUDIENCE, environment('mcp-server').STOCK_API_AUDIENCE);
    assert.equal(config.EXCHANGE_CLIENT_ID, environment('mcp-server').CLIENT_ID);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.PORT, ports('stock-api')[0]?.target);
  });

  it('keycloak healthcheck reports healthy on HTTP 200 from /health/ready and unhealthy on 503', async (t: TestContext) => {
    if (spawnSync('bash', ['-c', 'true']).status !== 0) {
      t.skip('bash is not installed here');
      return;
    }
    await assertHealthcheckFollowsStatus('keycloak', (argv, port) => {
      assert.ok(
        argv.some((part) => part.includes('/dev/tcp/127.0.0.1/9000')),
        'keycloak healthcheck must probe the management port 9000',
      );
      assert.ok(
        argv.some((part) => part.includes('GET /health/ready ')),
        'keycloak healthcheck must ask /health/ready',
      );
      return argv.map((part) => part.replace('/dev/tcp/127.0.0.1/9000', `/dev/tcp/127.0.0.1/${port}`));
    });
  });

  for (const [name, port] of [
    ['stock-api', 4000],
    ['mcp-server', 3000],
  ] as const) {
    it(`${name} healthcheck reports healthy on HTTP 200 from /healthz and unhealthy on 503`, async () => {
      await assertHealthcheckFollowsStatus(name, (argv, stubPort) => {
        assert.equal(argv[0], 'node');
        assert.ok(
          argv.some((part) => part.includes(`http://127.0.0.1:${port}/healthz`)),
          `${name} healthcheck must ask /healthz on ${port}`,
        );
        return [
          process.execPath,
          ...argv.slice(1).map((part) => part.replace(`127.0.0.1:${port}/`, `127.0.0.1:${stubPort}/`)),
        ];
      });
    });
  }
});
