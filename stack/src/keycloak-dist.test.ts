// A failed Keycloak download gets one clear StackError with the fix. No internet: the settings (SANDBOX_MAVEN_REPO)
// point the HTTPS path at a node:http server on 127.0.0.1, SANDBOX_FETCH_VIA=https keeps Maven out, and
// SANDBOX_CACHE_DIR is a temp dir — passed to ensureKeycloakDist, never written into process.env.
// Every case fails before the unpack/build step, so no Keycloak is ever built or started.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { StackError } from './errors.ts';
import type { JavaRuntime } from './java.ts';
import { distributionUrl, ensureKeycloakDist, MAVEN_CENTRAL } from './keycloak-dist.ts';
import { loadStackSettings, type StackSettings } from './settings.ts';
import { pins } from './versions.ts';

const ARTIFACT_PATH = `/maven2/org/keycloak/keycloak-quarkus-dist/${pins.keycloak}/keycloak-quarkus-dist-${pins.keycloak}.tar.gz`;
/** Never run: every case here must fail before `kc.sh build`. */
const DUMMY_JAVA: JavaRuntime = { path: '/nonexistent/java', major: 17, source: 'test' };

let cache: string;
let settings: StackSettings;
let handler: (request: IncomingMessage, response: ServerResponse) => void;
let requested: string[];
let server: Server;
let repo: string;

async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

before(async () => {
  server = createServer((request, response) => {
    requested.push(request.url ?? '');
    handler(request, response);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  repo = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maven2`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'keycloak-dist-test-'));
  requested = [];
  settings = loadStackSettings({ SANDBOX_MAVEN_REPO: repo, SANDBOX_CACHE_DIR: cache, SANDBOX_FETCH_VIA: 'https' });
});
afterEach(() => {
  rmSync(cache, { recursive: true, force: true });
});

/** Files left in the per-version cache directory and the archive directory after a failed fetch. */
function cacheFiles(): string[] {
  return [join(cache, `keycloak-${pins.keycloak}`), join(cache, 'archives')].flatMap((dir) =>
    existsSync(dir) ? readdirSync(dir) : [],
  );
}

describe('loadStackSettings', () => {
  it('defaults the Maven repository to Central', () => {
    assert.equal(loadStackSettings({}).mavenRepo, MAVEN_CENTRAL);
    assert.equal(MAVEN_CENTRAL, 'https://repo1.maven.org/maven2');
  });

  it('takes SANDBOX_MAVEN_REPO without its trailing slash', () => {
    assert.equal(
      loadStackSettings({ SANDBOX_MAVEN_REPO: 'https://mirror.example/maven2/' }).mavenRepo,
      'https://mirror.example/maven2',
    );
  });

  it('rejects a bad value naming the variable', () => {
    assert.throws(
      () => loadStackSettings({ STACK_READY_TIMEOUT_S: 'soon' }),
      (error: unknown) =>
        error instanceof StackError && error.code === 'bad_config' && /STACK_READY_TIMEOUT_S/.test(error.message),
    );
    assert.throws(() => loadStackSettings({ SANDBOX_FETCH_VIA: 'ftp' }), /SANDBOX_FETCH_VIA/);
    assert.throws(() => loadStackSettings({ SANDBOX_MAVEN_REPO: 'repo.example' }), /SANDBOX_MAVEN_REPO/);
  });

  it('treats empty values as unset and reads the ready timeout in seconds', () => {
    const s = loadStackSettings({ SANDBOX_MAVEN_REPO: '', STACK_READY_TIMEOUT_S: '400', HOME: '/h' });
    assert.equal(s.mavenRepo, MAVEN_CENTRAL);
    assert.equal(s.readyTimeoutMs, 400_000);
    assert.equal(loadStackSettings({ SANDBOX_CACHE_DIR: '/tmp/c' }).cacheDir, '/tmp/c');
    assert.equal(loadStackSettings({ XDG_CACHE_HOME: '/x' }).cacheDir, '/x/mcp-keycloak-sandbox');
  });
});

describe('distributionUrl', () => {
  it('builds the artifact URL under the configured repository', () => {
    assert.equal(
      distributionUrl('26.0.0', settings),
      `${repo}/org/keycloak/keycloak-quarkus-dist/26.0.0/keycloak-quarkus-dist-26.0.0.tar.gz`,
    );
  });
});

describe('ensureKeycloakDist', () => {
  it('throws download_failed naming the URL when the repository answers 404', async () => {
    handler = (_request, response) => {
      response.writeHead(404).end('Not Found');
    };
    const lines: string[] = [];
    await assert.rejects(
      ensureKeycloakDist(DUMMY_JAVA, (line) => lines.push(line), settings),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'download_failed');
        assert.equal(
          error.message,
          `Downloading Keycloak ${pins.keycloak} failed: HTTP 404 from ${repo}${ARTIFACT_PATH.slice('/maven2'.length)}`,
        );
        assert.ok(error.fix.includes(`${repo}/org/keycloak/keycloak-quarkus-dist/${pins.keycloak}/`), error.fix);
        assert.match(error.fix, /keycloak\/version\.json/);
        assert.match(error.fix, /SANDBOX_MAVEN_REPO/);
        return true;
      },
    );
    assert.deepEqual(requested, [ARTIFACT_PATH]);
    assert.ok(lines.includes(`downloading ${repo}${ARTIFACT_PATH.slice('/maven2'.length)}`), lines.join('\n'));
    assert.deepEqual(cacheFiles(), []);
  });

  it('throws download_failed with the reason when the connection is refused', async () => {
    const refused = `http://127.0.0.1:${await closedPort()}/maven2`;
    await assert.rejects(
      ensureKeycloakDist(
        DUMMY_JAVA,
        () => {},
        loadStackSettings({ SANDBOX_MAVEN_REPO: refused, SANDBOX_CACHE_DIR: cache, SANDBOX_FETCH_VIA: 'https' }),
      ),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'download_failed');
        assert.ok(
          error.message.startsWith(`Could not download Keycloak ${pins.keycloak} from ${refused}/org/keycloak/`),
          error.message,
        );
        assert.match(error.message, /ECONNREFUSED/);
        assert.ok(error.fix.includes(`check network access to ${refused}`), error.fix);
        assert.match(error.fix, /SANDBOX_MAVEN_REPO/);
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  });

  it('throws download_failed when the download breaks off mid-body', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-length': '1000000' });
      response.write(Buffer.alloc(1000), () => response.destroy());
    };
    await assert.rejects(
      ensureKeycloakDist(DUMMY_JAVA, () => {}, settings),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'download_failed');
        assert.match(error.message, /broke off/);
        assert.match(error.fix, /^retry/);
        return true;
      },
    );
    assert.deepEqual(cacheFiles(), []);
  });

  it('throws checksum_mismatch and deletes the archive when its SHA-1 is not the pinned one', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/gzip' }).end('not a keycloak archive');
    };
    await assert.rejects(
      ensureKeycloakDist(DUMMY_JAVA, () => {}, settings),
      (error: unknown) => {
        assert.ok(error instanceof StackError);
        assert.equal(error.code, 'checksum_mismatch');
        // SHA-1 of the 22 bytes the server sent.
        assert.equal(
          error.message,
          `Keycloak archive SHA-1 is 0361f2aa9dbc4deb575f7083073f2d06a1828e93, expected ${pins.sha1}`,
        );
        assert.match(error.fix, /delete the cache directory and retry/);
        return true;
      },
    );
    assert.deepEqual(requested, [ARTIFACT_PATH]);
    assert.deepEqual(cacheFiles(), [], 'the corrupt archive must not stay in the cache');
  });
});
