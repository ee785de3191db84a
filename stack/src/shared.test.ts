// Static checks of the shared profile: docker-compose.shared.yml, stack/images/haproxy.cfg, the image tags and the
// Keycloak build options. No Docker engine needed (the `docker compose config` check skips without a compose plugin).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parse } from 'yaml';
import { loadConfig as loadApprovalDeviceConfig } from '../../approval-device/src/config.ts';
import { loadConfig as loadClientDocsConfig } from '../../client-docs/src/config.ts';
import { loadConfig as loadStockApiConfig } from '../../mock-stock-api/src/config.ts';
import { loadConfig as loadServerConfig } from '../../server/src/config.ts';
import { DEFAULT_PORTS, MCP_SERVER_CLIENT, REALM } from './spec.ts';
import { KEYCLOAK_FEATURE_OPTIONS, KEYCLOAK_HARDENING_OPTIONS } from './keycloak-dist.ts';
import { realmFile, repoRoot } from './paths.ts';
import {
  DEFAULT_SHARED_HOST,
  KEYCLOAK_NODES,
  MCP_REPLICAS,
  SHARED_NETWORK,
  SHARED_PORTS,
  SHARED_PROJECT,
  sharedComposeEnv,
  sharedComposeFile,
  sharedHost,
  sharedUrls,
} from './shared.ts';
import { loadStackSettings } from './settings.ts';
import { contentHash, KEYCLOAK_SHARED_BUILD_OPTIONS, sharedImageTags } from './shared-images.ts';
import { pins } from './versions.ts';

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: string[] };
  command?: string[];
  hostname?: string;
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }> | string[];
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
  user?: string;
}
interface SharedCompose {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks: { default: { ipam: { config: Array<{ subnet: string; ip_range: string; gateway: string }> } } };
}

const raw = readFileSync(sharedComposeFile, 'utf8');
// merge: the file shares environments and healthchecks through YAML anchors and `<<` merge keys.
const compose = parse(raw, { merge: true }) as SharedCompose;
const SERVICES = [
  'postgres',
  ...KEYCLOAK_NODES,
  'redis',
  'stock-api',
  ...MCP_REPLICAS,
  'approval-device',
  'client-docs',
  'haproxy',
];
const service = (name: string): Service => {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.shared.yml has no service "${name}"`);
  return found;
};

/** Compose interpolation with `env`: `$$` → `$`, `${X:-d}` → env or d, `${X:?msg}` → env or an error, `${X}` → env. */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g,
    (match, name?: string, kind?: string, rest?: string) => {
      if (match === '$$') return '$';
      const set = name ? env[name] : undefined;
      if (set !== undefined && set !== '') return set;
      if (kind === ':-') return rest ?? '';
      throw new Error(`\${${name}} is not set${kind === ':?' ? `: ${rest}` : ''}`);
    },
  );
}

/** What `make up PROFILE=shared` sets; SANDBOX_HOST is left to the file's default. */
const MAKE_ENV = {
  POSTGRES_IMAGE: 'mcp-sandbox/postgres:15-bookworm-test',
  HAPROXY_IMAGE: 'mcp-sandbox/haproxy:debian-bookworm-test',
  KEYCLOAK_SHARED_IMAGE: `mcp-sandbox/keycloak-shared:${pins.keycloak}-test-jre17-bookworm`,
  REDIS_IMAGE: 'mcp-sandbox/redis:debian-bookworm',
  SANDBOX_STATE_KEY: 'a'.repeat(64),
  SANDBOX_BOT_SECRET: 'b'.repeat(64),
  SANDBOX_BOT_PUBLIC_KEY: 'MIIB',
  SANDBOX_BOT_KID: 'kid',
  SANDBOX_WORKLOAD_PUBLIC_KEY: 'MIIB',
  SANDBOX_WORKLOAD_KID: 'kid',
};
const env = (name: string, extra: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([key, value]) => [
      key,
      interpolate(String(value ?? ''), { ...MAKE_ENV, ...extra }),
    ]),
  );
const command = (name: string, extra: Record<string, string> = {}) =>
  (service(name).command ?? []).map((part) => interpolate(part, { ...MAKE_ENV, ...extra }));
const published = (name: string) =>
  (service(name).ports ?? []).map((port) => {
    const parts = port.split(':');
    return { hostIp: parts.slice(0, -2).join(':'), published: Number(parts.at(-2)), target: Number(parts.at(-1)) };
  });
const urls = sharedUrls(DEFAULT_SHARED_HOST);
const haproxyCfg = readFileSync(join(repoRoot, 'stack', 'images', 'haproxy.cfg'), 'utf8');
const toInt = (ip: string) => ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
const inCidr = (ip: string, cidr: string) => {
  const [network = '', bits = '32'] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(network) & mask) >>> 0;
};

describe('docker-compose.shared.yml', () => {
  it('is its own project with exactly the shared services, and opens with a "demo only" banner', () => {
    assert.equal(compose.name, SHARED_PROJECT);
    assert.deepEqual(Object.keys(compose.services).sort(), [...SERVICES].sort());
    assert.match(raw.split('\n')[0] ?? '', /^# DEMO ONLY\b/);
  });

  it('puts a one-line role comment above each service', () => {
    const lines = raw.split('\n');
    for (const name of SERVICES) {
      const at = lines.indexOf(`  ${name}:`);
      assert.ok(at > 0, `service "${name}" is not a two-space-indented key`);
      assert.match(lines[at - 1] ?? '', new RegExp(`^  # ${name}: \\S.{15,}`), `the line above "${name}:"`);
      assert.doesNotMatch(lines[at - 2] ?? '', /^\s*#/, `the role comment above "${name}:" must be one line`);
    }
  });

  it('gives every service a healthcheck, and gates every depends_on on service_healthy', () => {
    for (const name of SERVICES) {
      assert.ok(service(name).healthcheck?.test, `${name} has no healthcheck`);
      const dependsOn = service(name).depends_on ?? {};
      assert.ok(!Array.isArray(dependsOn), `${name}: the list form of depends_on only waits for "started"`);
      for (const [dependency, options] of Object.entries(dependsOn))
        assert.equal(options.condition, 'service_healthy', `${name} → ${dependency}`);
    }
    // The balancer starts last, so `up --wait` returning means every public URL answers.
    assert.deepEqual(Object.keys(service('haproxy').depends_on ?? {}).sort(), [
      'approval-device',
      'client-docs',
      ...KEYCLOAK_NODES,
      ...MCP_REPLICAS,
    ]);
    // The first node alone on an empty database (two at once race to create Liquibase's changelog table), then the rest.
    const [first = '', ...others] = KEYCLOAK_NODES;
    assert.deepEqual(Object.keys(service(first).depends_on ?? {}), ['postgres']);
    for (const node of others)
      assert.deepEqual(Object.keys(service(node).depends_on ?? {}).sort(), [first, 'postgres']);
  });

  it('takes every image from a tag `make images PROFILE=shared` built, or builds it from a Dockerfile that exists', () => {
    for (const name of SERVICES) {
      const { image, build } = service(name);
      if (image) {
        assert.match(image, /^\$\{[A-Z_]+_IMAGE:\?[^}]+\}$/, `${name}: image must be a required variable`);
        continue;
      }
      assert.ok(build?.dockerfile && existsSync(join(repoRoot, build.dockerfile)), `${name}: build.dockerfile`);
      assert.equal(build.context, '.', `${name} must build from the repository root (the lockfile lives there)`);
      assert.deepEqual(build.args, ['NODE_IMAGE']);
    }
    const fromMake = new Set(
      Object.keys(
        sharedComposeEnv({
          host: 'h',
          stateKey: 'k',
          shared: sharedImageTags(() => 'x', 'e'),
          local: { base: 'b', node: 'n', keycloak: 'k', redis: 'r' },
        }),
      ),
    );
    for (const variable of raw.matchAll(/\$\{([A-Z_]+):\?/g))
      assert.ok(fromMake.has(variable[1] ?? ''), `make up does not set ${variable[1]}, which the file requires`);
  });

  it('publishes none of the laptop profile ports, and only on 127.0.0.1 (or SANDBOX_BIND for the balancer)', () => {
    const laptop = new Set(Object.values(DEFAULT_PORTS));
    for (const name of SERVICES)
      for (const port of published(name)) {
        assert.ok(!laptop.has(port.published), `${name} publishes ${port.published}, a laptop profile port`);
        assert.ok(
          port.hostIp === '127.0.0.1' || (name === 'haproxy' && port.hostIp === '${SANDBOX_BIND:-127.0.0.1}'),
          `${name}: port ${port.published} is published on ${port.hostIp || 'every interface'}`,
        );
      }
    assert.deepEqual(
      published('haproxy').map((p) => [p.published, p.target]),
      [
        [SHARED_PORTS.keycloak, SHARED_PORTS.keycloak],
        [SHARED_PORTS.mcp, SHARED_PORTS.mcp],
        [SHARED_PORTS.approvalDevice, SHARED_PORTS.approvalDevice],
        [SHARED_PORTS.clientDocs, SHARED_PORTS.clientDocs],
        [SHARED_PORTS.balancer, 8404],
      ],
      'the balancer listens on the published port numbers, so a public URL is the same string inside the network',
    );
    KEYCLOAK_NODES.forEach((node, i) =>
      assert.deepEqual(
        published(node).map((p) => [p.published, p.target]),
        [
          [SHARED_PORTS.keycloakNodes[i], 8080],
          [SHARED_PORTS.keycloakNodesManagement[i], 9000],
        ],
      ),
    );
    for (const name of ['postgres', 'redis', 'stock-api', ...MCP_REPLICAS, 'approval-device', 'client-docs'])
      assert.deepEqual(published(name), [], `${name} is reached through the balancer or the network only`);
  });

  it('has its own subnet (not the laptop 172.28.0.0/16); haproxy sits on a fixed address outside the dynamic range', () => {
    const [ipam] = compose.networks.default.ipam.config;
    assert.ok(ipam);
    assert.deepEqual(
      { subnet: ipam.subnet, gateway: ipam.gateway },
      { subnet: SHARED_NETWORK.subnet, gateway: SHARED_NETWORK.gateway },
    );
    assert.ok(!inCidr(ipam.gateway, '172.28.0.0/16'));
    assert.ok(inCidr(ipam.gateway, ipam.subnet) && inCidr(ipam.ip_range.split('/')[0] ?? '', ipam.subnet));
    const balancer = service('haproxy').networks?.default?.ipv4_address ?? '';
    assert.equal(balancer, SHARED_NETWORK.balancer);
    assert.ok(inCidr(balancer, ipam.subnet) && !inCidr(balancer, ipam.ip_range), `${balancer} in ${ipam.ip_range}`);
    assert.deepEqual(service('haproxy').networks?.default?.aliases, ['${SANDBOX_HOST:-sandbox.localhost}']);
  });

  it('runs both Keycloak nodes in production mode, one cluster on PostgreSQL, behind the balancer', () => {
    const [first = [], second = []] = KEYCLOAK_NODES.map((node) => command(node));
    assert.deepEqual(first.slice(0, 2), ['start', '--optimized']);
    for (const flag of [
      '--http-enabled=true',
      `--hostname=${urls.keycloak}`,
      '--proxy-headers=xforwarded',
      `--proxy-trusted-addresses=${SHARED_NETWORK.balancer}`,
      '--cache=ispn',
      '--cache-stack=jdbc-ping',
      '--truststore-paths=/opt/keycloak/conf/sandbox-tls/ca.crt',
    ])
      assert.ok(first.includes(flag), `keycloak-1 lacks ${flag}`);
    // The realm is imported by one node, on the first start only (an existing realm is skipped).
    assert.ok(first.includes('--import-realm'));
    assert.deepEqual(
      second,
      first.filter((arg) => arg !== '--import-realm'),
    );
    assert.ok(!first.some((arg) => arg.startsWith('--hostname-backchannel-dynamic')), 'discovery names public URLs');
    assert.deepEqual(env('keycloak-1'), env('keycloak-2'));
    KEYCLOAK_NODES.forEach((node) => assert.equal(service(node).hostname, node));
    assert.equal(env('keycloak-1').KC_DB_URL, 'jdbc:postgresql://postgres:5432/keycloak');
    assert.equal(env('keycloak-1').KC_DB_PASSWORD, env('postgres').POSTGRES_PASSWORD);
    assert.equal(env('keycloak-1').KC_DB_USERNAME, env('postgres').POSTGRES_USER);
    assert.ok((service('postgres').volumes ?? []).includes('postgres-data:/var/lib/postgresql/data'));
    assert.ok(compose.volumes && 'postgres-data' in compose.volumes, 'a named volume survives `down`');
  });

  it('drains a stopping Keycloak node: not ready longer than haproxy needs to take it out, all within the grace period', () => {
    const seconds = (value: string | undefined) => Number(/^(\d+)s$/.exec(value ?? '')?.[1] ?? Number.NaN);
    const inter = seconds(/^\s+default-server .*\binter (\d+s)\b/m.exec(haproxyCfg)?.[1]);
    const fall = Number(/^\s+default-server .*\bfall (\d+)\b/m.exec(haproxyCfg)?.[1]);
    for (const node of KEYCLOAK_NODES) {
      const option = (name: string) =>
        command(node)
          .find((arg) => arg.startsWith(`--${name}=`))
          ?.split('=')[1];
      const delay = seconds(option('shutdown-delay'));
      const timeout = seconds(option('shutdown-timeout'));
      assert.ok(
        delay > inter * fall,
        `${node}: --shutdown-delay ${delay}s must outlast haproxy's ${fall} × ${inter}s checks`,
      );
      assert.ok(timeout >= 10, `${node}: --shutdown-timeout ${timeout}s`);
      const grace = seconds((service(node) as { stop_grace_period?: string }).stop_grace_period);
      assert.ok(grace > delay + timeout, `${node}: stop_grace_period ${grace}s must exceed ${delay + timeout}s`);
    }
  });

  it('builds Keycloak with PostgreSQL, health and the laptop profile features and hardening', () => {
    assert.deepEqual(KEYCLOAK_SHARED_BUILD_OPTIONS, [
      '--db=postgres',
      '--health-enabled=true',
      ...KEYCLOAK_FEATURE_OPTIONS,
      ...KEYCLOAK_HARDENING_OPTIONS,
    ]);
    const dockerfile = readFileSync(join(repoRoot, 'stack', 'images', 'keycloak-shared.Dockerfile'), 'utf8');
    assert.match(dockerfile, /kc\.sh build \$\{KC_BUILD_OPTIONS\}/);
    assert.match(dockerfile, /^ENV KC_RUN_IN_CONTAINER=true$/m);
    assert.match(dockerfile, /COPY .*sandbox-mcp-scopes\.jar \/opt\/keycloak\/providers\//);
  });

  it('fills the realm placeholders with the public https URLs, and only placeholders the realm reads', () => {
    const realm = readFileSync(realmFile, 'utf8');
    const kc = env('keycloak-1');
    for (const key of Object.keys(kc)) {
      if (/^(KC_BOOTSTRAP_ADMIN_|KC_DB_|JAVA_OPTS_)/.test(key)) continue;
      assert.ok(
        realm.includes(`\${${key}:`) || realm.includes(`\${${key}}`),
        `${key} is set but the realm has no \${${key}:…} placeholder`,
      );
    }
    assert.equal(kc.MCP_RESOURCE_URL, urls.mcp);
    assert.equal(kc.MCP_EXPLORER_URL, `${urls.mcpOrigin}/explorer`);
    assert.equal(kc.APPROVAL_DEVICE_URL, urls.approvalDevice);
    assert.equal(kc.MCP_CIMD_DOCUMENT_PREFIX, `${urls.clientDocs}/clients/`);
    assert.equal(kc.MCP_CIMD_EXTRA_HOST, DEFAULT_SHARED_HOST);
    assert.equal(kc.MCP_SERVER_CLIENT_SECRET, MCP_SERVER_CLIENT.secret);
    // The host's own requests reach the balancer from the gateway; Keycloak sees that in X-Forwarded-For.
    assert.equal(kc.KC_DCR_TRUSTED_HOST, SHARED_NETWORK.gateway);
    assert.equal(env('keycloak-1', { SANDBOX_HOST: 'workshop.lan' }).MCP_RESOURCE_URL, 'https://workshop.lan:9444/mcp');
  });

  it('runs the MCP replicas with one configuration, one Redis and one state key, which their loadConfig accepts', () => {
    const [first, second] = MCP_REPLICAS.map((name) => env(name));
    assert.deepEqual(first, second);
    MCP_REPLICAS.forEach((name) => assert.equal(service(name).hostname, name, 'replica names in /metrics'));
    const config = loadServerConfig(first ?? {}) as unknown as Record<string, unknown>;
    for (const key of Object.keys(first ?? {})) assert.ok(Object.hasOwn(config, key), `mcp-server: ${key}`);
    assert.equal(first?.STATE_KEY, MAKE_ENV.SANDBOX_STATE_KEY);
    assert.throws(() => interpolate(String(service('mcp-server-1').environment?.STATE_KEY), {}), /state key/);
    assert.equal(first?.REDIS_URL, 'redis://redis:6379');
    assert.equal(first?.ISSUER_URL, urls.issuer);
    assert.equal(first?.MCP_RESOURCE_URL, urls.mcp);
    assert.equal(first?.CLIENT_ID, env('keycloak-1').MCP_RESOURCE_URL);
    assert.equal(first?.KEYCLOAK_INTERNAL_URL, 'http://haproxy:8080');
    assert.ok((config.ALLOWED_HOSTS as string[]).includes(DEFAULT_SHARED_HOST));
  });

  it('configures the stock API, the approval device and client-docs for the public URLs', () => {
    const stock = loadStockApiConfig(env('stock-api'));
    assert.equal(stock.ISSUER_URL, urls.issuer);
    assert.equal(stock.EXCHANGE_CLIENT_ID, urls.mcp);
    assert.equal(stock.JWKS_URL, `http://haproxy:8080/realms/${REALM}/protocol/openid-connect/certs`);
    const device = loadApprovalDeviceConfig(env('approval-device'));
    assert.equal(device.PUBLIC_URL, urls.approvalDevice);
    assert.deepEqual(device.CIBA_CLIENT_IDS, [urls.mcp]);
    assert.ok(device.ALLOWED_HOSTS.includes('approval-device'), 'Keycloak posts CIBA requests to approval-device');
    assert.ok(
      command('keycloak-1').includes(
        '--spi-ciba-auth-channel--ciba-http-auth-channel--http-authentication-channel-uri=http://approval-device:4100/ciba/requests',
      ),
    );
    assert.equal(loadClientDocsConfig(env('client-docs')).PUBLIC_URL, urls.clientDocs);
  });

  it('is accepted by `docker compose config` with what make up sets (no engine needed)', (t: TestContext) => {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 15_000 });
    if (version.error || version.status !== 0) {
      t.skip('no docker compose plugin here');
      return;
    }
    const result = spawnSync('docker', ['compose', '-f', sharedComposeFile, 'config', '--quiet'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, ...MAKE_ENV },
    });
    assert.equal(result.status, 0, result.stderr);
  });
});

describe('stack/images/haproxy.cfg', () => {
  const serverLines = (backend: string) =>
    [
      ...(new RegExp(`^backend ${backend}\\n((?:[ \\t]+.*\\n?)*)`, 'm').exec(haproxyCfg)?.[1] ?? '').matchAll(
        /^\s+server (\S+) (\S+)/gm,
      ),
    ].map((m) => [m[1], m[2]]);

  it('retries a refused connection on another server (a draining replica or a stopping node), never a sent request', () => {
    const defaults = /^defaults\n((?:[ \t]+.*\n?|\n)*?)^\S/m.exec(haproxyCfg)?.[1] ?? '';
    assert.match(defaults, /^\s+retries [1-9]/m);
    assert.match(defaults, /^\s+option redispatch 1$/m);
    assert.doesNotMatch(haproxyCfg, /^\s+retry-on/m, 'retry-on beyond connection failures could send an order twice');
  });

  it('balances over every Keycloak node and every MCP replica, checked the way their healthchecks are', () => {
    assert.deepEqual(
      serverLines('keycloak'),
      KEYCLOAK_NODES.map((node) => [node, `${node}:8080`]),
    );
    assert.deepEqual(
      serverLines('mcp'),
      MCP_REPLICAS.map((name) => [name, `${name}:3000`]),
    );
    assert.match(
      haproxyCfg,
      /option httpchk GET \/health\/ready\n\s+http-check expect status 200\n(\s+server keycloak-\d .* check port 9000\n){2}/,
    );
  });

  it('binds the published ports with the shared host certificate', () => {
    for (const port of [SHARED_PORTS.keycloak, SHARED_PORTS.mcp, SHARED_PORTS.approvalDevice, SHARED_PORTS.clientDocs])
      assert.match(haproxyCfg, new RegExp(`^\\s+bind :${port} ssl crt /tls/shared-host\\.pem`, 'm'));
    assert.match(haproxyCfg, /^\s+bind :8080$/m);
    assert.match(haproxyCfg, /^\s+bind :8404$/m);
  });

  it('sets X-Forwarded-For to the connection address instead of passing on what the client sent', () => {
    assert.doesNotMatch(
      haproxyCfg,
      /option forwardfor/,
      'forwardfor appends: a client could prepend a trusted address',
    );
    const frontends = haproxyCfg
      .split(/^frontend /m)
      .slice(1)
      .filter((f) => /default_backend (keycloak|mcp|approval)\b/.test(f));
    assert.equal(frontends.length, 4, 'keycloak (public and internal), mcp, approval');
    for (const frontend of frontends)
      assert.match(frontend, /http-request set-header X-Forwarded-For %\[src\]/, frontend.split('\n')[0]);
  });

  it('uses no sticky sessions (no cookie or stick-table persistence)', () => {
    assert.doesNotMatch(haproxyCfg, /^\s*(cookie|stick|stick-table|balance source)\b/m);
  });
});

describe('shared profile names and images', () => {
  it('takes SANDBOX_HOST, else a .localhost name', () => {
    assert.equal(sharedHost(loadStackSettings({})), DEFAULT_SHARED_HOST);
    assert.equal(sharedHost(loadStackSettings({ SANDBOX_HOST: ' Workshop.LAN ' })), 'workshop.lan');
    assert.throws(() => loadStackSettings({ SANDBOX_HOST: 'https://workshop.lan/' }), /SANDBOX_HOST.*host name/);
    assert.match(DEFAULT_SHARED_HOST, /\.localhost$/);
    assert.equal(sharedUrls('workshop.lan').issuer, `https://workshop.lan:9443/realms/${REALM}`);
  });

  it('tags each shared image with a hash of what went into it', () => {
    const files = (name: string) => `contents of ${name}`;
    const tags = sharedImageTags(files, 'ext1');
    assert.ok(tags.keycloakShared.includes(pins.keycloak));
    assert.notEqual(sharedImageTags(files, 'ext2').keycloakShared, tags.keycloakShared, 'the extension changed');
    assert.equal(sharedImageTags(files, 'ext2').postgres, tags.postgres);
    const changed = (name: string) => (name === 'postgres-entrypoint.sh' ? 'other' : files(name));
    assert.notEqual(sharedImageTags(changed, 'ext1').postgres, tags.postgres, 'the entrypoint changed');
    assert.match(contentHash(['a']), /^[0-9a-f]{10}$/);
    assert.notEqual(contentHash(['ab', 'c']), contentHash(['a', 'bc']));
  });
});
