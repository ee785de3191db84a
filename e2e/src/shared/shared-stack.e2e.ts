// The shared profile, end to end: the last stage of `make test` (`make test-shared` runs it alone). Named *.e2e.ts, not
// *.test.ts, because it brings its own stack instead of running on each provider's. docker-compose.shared.yml comes up
// in its own compose project (its own database volume, removed at the end), then
//   - both Keycloak nodes are ready and joined one cluster (JDBC_PING through PostgreSQL);
//   - the balancer answers from both MCP server replicas (/metrics names the replica);
//   - the SDK v2 client registers by DCR, signs alice in over HTTP through Keycloak's form and calls get_portfolio,
//     everything through haproxy over HTTPS with the local CA;
//   - anonymous DCR's Trusted Hosts sees the address haproxy saw, and no client can claim another one;
//   - a login that starts on keycloak-1 finishes on keycloak-2 (each request sent to one node's own port);
//   - after `down` and `up` (the database volume kept) the same registered client refreshes and signs in again.
// It needs the images `make images PROFILE=shared` builds, and the shared ports free (no `make up PROFILE=shared`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as V2 from '@modelcontextprotocol/client';
import {
  keycloakAdmin,
  KEYCLOAK_NODES,
  MCP_REPLICAS,
  repoRoot,
  SHARED_PROJECT,
  TLS_DIR,
  sharedContainers,
  sharedHost,
  startShared,
  stopShared,
  type SharedUrls,
} from '@sandbox/stack';
import { chartSvg, runScale } from '@sandbox/scale';
import { ensureAttendees } from '@sandbox/scale/users';
import { formLogin, loopbackFetch, pkce } from './net.ts';

const PROJECT = `${SHARED_PROJECT}-e2e`;
const REDIRECT_URI = 'http://127.0.0.1:47913/callback';
const log = (line: string) => console.log(`  [shared] ${line}`);
/** A shell command that starts a container once its `docker stop` (still draining, maybe) has finished. */
const startWhenStopped = (container: string) =>
  `while [ "$(docker inspect -f '{{.State.Running}}' ${container})" = true ]; do sleep 0.5; done; docker start ${container}`;

interface Tokens {
  access_token: string;
  token_type: string;
  refresh_token?: string;
  scope?: string;
}

/** The SDK's OAuthClientProvider with in-memory storage (what a desktop client keeps on disk) and HTTP sign-in. */
class StoredClientProvider {
  client: { client_id: string } | undefined;
  saved: Tokens | undefined;
  registrations = 0;
  signIns = 0;
  tokenSaves = 0;
  lastCallback: URL | undefined;
  private verifier = '';
  private discovery: unknown;
  private readonly stateValue = pkce().verifier;
  private readonly fetchFn: typeof fetch;
  constructor(fetchFn: typeof fetch) {
    this.fetchFn = fetchFn;
  }
  get redirectUrl() {
    return REDIRECT_URI;
  }
  get clientMetadata() {
    return {
      client_name: 'e2e shared profile',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.stateValue;
  }
  clientInformation() {
    return this.client as never;
  }
  saveClientInformation(info: { client_id: string }) {
    this.client = info;
    this.registrations += 1;
  }
  tokens() {
    return this.saved as never;
  }
  saveTokens(tokens: Tokens) {
    this.saved = tokens;
    this.tokenSaves += 1;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state: unknown) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery as never;
  }
  async redirectToAuthorization(url: URL) {
    this.signIns += 1;
    this.lastCallback = await formLogin(url, 'alice', { fetch: this.fetchFn });
    const error = this.lastCallback.searchParams.get('error');
    if (error)
      throw new Error(`authorization failed: ${error} ${this.lastCallback.searchParams.get('error_description')}`);
  }
}

/** An SDK v2 client (2026-07-28) on the balancer; on 401 it registers or refreshes or signs in, as the SDK decides. */
async function getPortfolio(urls: SharedUrls, provider: StoredClientProvider, fetchFn: typeof fetch) {
  const attempt = async () => {
    const client = new V2.Client({ name: 'e2e-shared', version: '1.0.0' }, {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
    } as never);
    const transport = new V2.StreamableHTTPClientTransport(new URL(urls.mcp), {
      authProvider: provider as never,
      fetch: fetchFn,
    });
    try {
      await client.connect(transport);
      return (await client.callTool({ name: 'get_portfolio', arguments: {} })) as {
        structuredContent?: Record<string, unknown>;
        isError?: boolean;
      };
    } catch (error) {
      if (!(error instanceof V2.UnauthorizedError) || !provider.lastCallback) throw error;
      await transport.finishAuth(provider.lastCallback.searchParams);
      provider.lastCallback = undefined;
      return undefined;
    } finally {
      await client.close().catch(() => {});
    }
  };
  const result = (await attempt()) ?? (await attempt());
  assert.ok(result, 'no result after signing in');
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return result;
}

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

function containerLogs(service: string): string {
  const result = spawnSync('docker', ['logs', `${PROJECT}-${service}-1`], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

describe(
  'the shared profile: two Keycloak nodes, two MCP replicas, haproxy, PostgreSQL',
  { timeout: 20 * 60_000 },
  () => {
    let urls: SharedUrls;
    let fetchFn: typeof fetch;
    const provider = () => sharedProvider;
    let sharedProvider: StoredClientProvider;
    let clientId = '';

    before(async () => {
      const running = sharedContainers(SHARED_PROJECT);
      assert.deepEqual(
        running,
        [],
        `the shared profile is running (${running.join(', ')}): its ports and network are the ones this suite uses; stop it with make down PROFILE=shared`,
      );
      stopShared({ project: PROJECT, volumes: true }); // leftovers of an interrupted run
      const stack = await startShared(log, { project: PROJECT });
      log(`up from an empty database in ${stack.timings.total} s (compose up --wait ${stack.timings.up} s)`);
      urls = stack.urls;
      fetchFn = loopbackFetch(sharedHost(), readFileSync(join(TLS_DIR, 'ca.crt')));
      sharedProvider = new StoredClientProvider(fetchFn);
    });

    after(() => {
      stopShared({ project: PROJECT, volumes: true });
    });

    it('runs both Keycloak nodes, ready, in one cluster found through the database (JDBC_PING)', async () => {
      for (const management of urls.keycloakNodesManagement) {
        const response = await fetch(`${management}/health/ready`);
        assert.equal(response.status, 200, `${management}/health/ready`);
        assert.equal(((await response.json()) as { status: string }).status, 'UP');
      }
      for (const node of KEYCLOAK_NODES) {
        const logs = containerLogs(node);
        assert.match(logs, /Starting JGroups channel `ISPN` with stack `jdbc-ping`/, `${node}: discovery stack`);
        const views = [
          ...logs.matchAll(
            /ISPN000094: Received new cluster view for channel ISPN: \[[^\]]+\] \((\d+)\) \[([^\]]*)\]/g,
          ),
        ];
        const two = views.find((view) => view[1] === '2');
        assert.ok(two, `${node} never saw a cluster view with two members`);
        for (const member of KEYCLOAK_NODES)
          assert.match(two[2] ?? '', new RegExp(`${member}-\\d+`), `${node}: ${member}`);
      }
    });

    it('balances the MCP endpoint over both replicas (GET /metrics names the replica that answered)', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const response = await fetchFn(`${urls.mcpOrigin}/metrics`);
        assert.equal(response.status, 200);
        seen.add(((await response.json()) as { replica: { host: string } }).replica.host);
      }
      assert.deepEqual([...seen].sort(), [...MCP_REPLICAS].sort());
    });

    it('registers an SDK v2 client by DCR, signs alice in and calls get_portfolio, all through the balancer over HTTPS', async () => {
      const result = await getPortfolio(urls, provider(), fetchFn);
      const portfolio = result.structuredContent?.portfolio as { owner?: { username?: string }; holdings?: unknown[] };
      assert.equal(portfolio.owner?.username, 'alice');
      assert.ok(Array.isArray(portfolio.holdings), JSON.stringify(result.structuredContent));
      assert.equal(provider().registrations, 1);
      assert.equal(provider().signIns, 1);
      clientId = provider().client?.client_id ?? '';
      assert.match(clientId, /^[0-9a-f-]{36}$/, 'a DCR client_id');
      const token = claims(provider().saved?.access_token ?? '');
      assert.equal(token.iss, urls.issuer);
      assert.equal(token.aud, urls.mcp);
      assert.equal(token.azp, clientId);
      assert.ok(provider().saved?.refresh_token, 'the client got a refresh token');
    });

    it('serves a room of 10 at once while a Keycloak node and an MCP replica are stopped and started: no leak, no order lost or doubled, every failure classified', async () => {
      const admin = keycloakAdmin(urls.keycloak, undefined, fetchFn);
      const attendees = await ensureAttendees(admin, 10);
      const container = (service: string) => `${PROJECT}-${service}-1`;
      const report = await runScale({
        mcp: urls.mcp,
        approvalDevice: urls.approvalDevice,
        stockApi: 'http://127.0.0.1:1', // not published in this profile: exchanges are not counted here
        bigOrder: 40, // 40 ACME = 5,694.00 USD, above the profile's 5000 USD threshold
        attendees,
        staggerMs: 300,
        fetch: fetchFn,
        faults: [
          // Both drain: Keycloak reports not ready for --shutdown-delay, then finishes its requests in flight; the
          // replica finishes its own (SHUTDOWN_TIMEOUT_S). A start waits until its stop has finished.
          { atS: 3, label: 'stop keycloak-2', command: `docker stop -t 35 ${container('keycloak-2')}` },
          { atS: 5, label: 'stop mcp-server-2', command: `docker stop -t 60 ${container('mcp-server-2')}` },
          { atS: 14, label: 'start mcp-server-2', command: startWhenStopped(container('mcp-server-2')) },
          { atS: 16, label: 'start keycloak-2', command: startWhenStopped(container('keycloak-2')) },
        ],
      });
      const dir = join(repoRoot, 'scale', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `shared-faults-${report.at.replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(file.replace(/\.json$/, '.svg'), chartSvg(report));
      log(
        `room of 10 with faults: ${report.calls.succeeded}/${report.calls.attempted} steps ok, failed by class ${JSON.stringify(report.calls.failedByClass)}; ${file}`,
      );
      // First the cluster heals (the next tests need both nodes): the restarted node is ready again, and the balancer uses both replicas again.
      const deadline = Date.now() + 180_000;
      for (const management of urls.keycloakNodesManagement) {
        let ready = false;
        while (!ready && Date.now() < deadline) {
          ready = (await fetch(`${management}/health/ready`).catch(() => undefined))?.status === 200;
          if (!ready) await new Promise((resolve) => setTimeout(resolve, 2000));
        }
        assert.ok(ready, `${management} is not ready again after its restart`);
      }
      const seen = new Set<string>();
      while (seen.size < MCP_REPLICAS.length && Date.now() < deadline) {
        const response = await fetchFn(`${urls.mcpOrigin}/metrics`).catch(() => undefined);
        if (response?.ok) seen.add(((await response.json()) as { replica: { host: string } }).replica.host);
        else await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      assert.deepEqual([...seen].sort(), [...MCP_REPLICAS].sort(), 'the balancer does not use both replicas again');
      assert.deepEqual(
        report.faults.map((f) => f.exitCode),
        [0, 0, 0, 0],
        JSON.stringify(report.faults),
      );
      assert.equal(report.leaks, 0);
      assert.equal(report.ordersLost, 0);
      assert.equal(report.ordersDoubled, 0);
      for (const [failure, count] of Object.entries(report.calls.failedByClass))
        assert.ok(/^(unauthorized|http_\d{3}|network|timeout|tool:[a-z_]+)$/.test(failure), `${count} × ${failure}`);
      // The room gets through: how many steps fail depends on the machine's load while a node and a replica are
      // down (haproxy's health checks lag), so the suite asserts that attendees finish, not a success ratio.
      assert.ok(
        report.outcomes.some((o) => o.steps.length > 0 && o.steps.every((step) => step.ok)),
        JSON.stringify(report.calls),
      );
    });

    it("lets anonymous DCR's Trusted Hosts see the sender the balancer saw; a forged X-Forwarded-For changes nothing", async () => {
      const metadata = JSON.stringify({
        client_name: 'e2e trusted-hosts probe',
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      });
      const path = '/realms/sandbox/clients-registrations/openid-connect';
      const forged = { 'content-type': 'application/json', 'x-forwarded-for': '10.89.25.1' }; // the trusted gateway
      // From this machine through the balancer, claiming an untrusted address: haproxy overwrites the header.
      const fromHost = await fetchFn(`${urls.keycloak}${path}`, {
        method: 'POST',
        headers: { ...forged, 'x-forwarded-for': '203.0.113.9' },
        body: metadata,
      });
      assert.equal(fromHost.status, 201, await fromHost.text());
      // From another container on the network, claiming the gateway: through haproxy (overwritten with the container's
      // address) and straight at a node (Keycloak takes X-Forwarded-* only from haproxy's address): refused both times.
      for (const target of ['http://haproxy:8080', 'http://keycloak-1:8080']) {
        const script = `fetch(${JSON.stringify(target + path)}, { method: 'POST', headers: ${JSON.stringify(forged)}, body: process.argv[1] }).then(async (r) => console.log(r.status, await r.text()))`;
        const result = spawnSync('docker', ['exec', `${PROJECT}-mcp-server-1-1`, 'node', '-e', script, metadata], {
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.match(
          result.stdout,
          /^403 .*Trusted Hosts.*Host not trusted/,
          `${target}: ${result.stdout}${result.stderr}`,
        );
      }
    });

    it('finishes on keycloak-2 a login that started on keycloak-1 (no sticky sessions needed)', async () => {
      const metadata = (await (await fetchFn(`${urls.issuer}/.well-known/openid-configuration`)).json()) as {
        authorization_endpoint: string;
        token_endpoint: string;
      };
      const { verifier, challenge } = pkce();
      const authorize = new URL(metadata.authorization_endpoint);
      for (const [key, value] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'mcp:tools portfolio:read trade:read',
        resource: urls.mcp,
        state: 'split-login',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }))
        authorize.searchParams.set(key, value);
      const [node1, node2] = urls.keycloakNodes as [string, string];
      const served: string[] = [];
      const callback = await formLogin(authorize, 'alice', {
        fetch: fetchFn,
        // The authorization request (and its login page) on keycloak-1, every later request on keycloak-2.
        route: (url, step) => {
          const node = step === 0 ? node1 : node2;
          served.push(node);
          return new URL(`${url.pathname}${url.search}`, node);
        },
      });
      assert.deepEqual([...new Set(served)], [node1, node2]);
      assert.equal(callback.searchParams.get('state'), 'split-login');
      assert.equal(callback.searchParams.get('iss'), urls.issuer);
      const code = callback.searchParams.get('code');
      assert.ok(code, `no code: ${callback.href}`);
      const response = await fetchFn(metadata.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
          client_id: clientId,
          code_verifier: verifier,
          resource: urls.mcp,
        }).toString(),
      });
      const tokens = (await response.json()) as Tokens;
      assert.equal(response.status, 200, JSON.stringify(tokens));
      assert.equal(claims(tokens.access_token).aud, urls.mcp);
      // The token works at the MCP server like any other.
      const seeded = new StoredClientProvider(fetchFn);
      seeded.client = { client_id: clientId };
      seeded.saved = tokens;
      await getPortfolio(urls, seeded, fetchFn);
      assert.equal(seeded.signIns, 0);
    });

    it('keeps the registered client usable after down and up: it refreshes, and signs in again, with the same client_id', async () => {
      const started = performance.now();
      stopShared({ project: PROJECT });
      const stack = await startShared(log, { project: PROJECT });
      log(`down and up again (database kept) in ${Math.round((performance.now() - started) / 100) / 10} s`);
      assert.match(containerLogs('keycloak-1'), /Realm 'sandbox' already exists\. Import skipped/);
      urls = stack.urls;

      // What a desktop client kept on disk: client information and tokens. The access token is spoiled so that the
      // client has to use its refresh token: the user session it belongs to was kept in PostgreSQL.
      const before = { registrations: provider().registrations, signIns: provider().signIns };
      provider().saved = { ...(provider().saved as Tokens), access_token: 'spoiled' };
      await getPortfolio(urls, provider(), fetchFn);
      assert.equal(provider().registrations, before.registrations, 'the client did not register again');
      assert.equal(provider().signIns, before.signIns, 'the refresh token worked: no new sign-in');
      assert.notEqual(provider().saved?.access_token, 'spoiled');

      // And with no tokens at all: a new sign-in with the stored client_id (the client itself survived).
      provider().saved = undefined;
      await getPortfolio(urls, provider(), fetchFn);
      assert.equal(provider().registrations, before.registrations);
      assert.equal(provider().signIns, before.signIns + 1);
      assert.equal(provider().client?.client_id, clientId);
      assert.equal(claims(provider().saved?.access_token ?? '').azp, clientId);
    });
  },
);
