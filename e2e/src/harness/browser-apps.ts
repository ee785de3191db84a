// Browser MCP clients as users run them, each on free loopback ports with a fresh HOME: the MCPJam inspector
// (installed apart in e2e/apps, `npm ci --prefix e2e/apps`) and the official Inspector's web UI (@modelcontextprotocol/
// inspector, an e2e dependency). Each runs detached in its own process group, stopped as a group; its output is kept
// for failure messages. Plus what drives their pages: Keycloak's login form, and a record of the registration request.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page, Response } from 'playwright-core';
import { SANDBOX_USERS } from '@sandbox/stack';
import { ARTIFACTS } from './browser.ts';
import { freePort } from './cli.ts';
import { harnessSettings } from './settings.ts';

const require = createRequire(import.meta.url);
const APPS_DIR = join(import.meta.dirname, '..', '..', 'apps');

export const MCPJAM_DIR = join(APPS_DIR, 'node_modules', '@mcpjam', 'inspector');
export const MCPJAM_VERSION = (require(join(APPS_DIR, 'package.json')) as { dependencies: Record<string, string> })
  .dependencies['@mcpjam/inspector'] as string;
/** Empty when MCPJam is installed; else what to run (the suite fails with it rather than skip). */
export const MCPJAM_MISSING = existsSync(join(MCPJAM_DIR, 'dist', 'server', 'index.js'))
  ? ''
  : `the MCPJam inspector is not installed (the browser clients' e2e suite drives it): install it with \`make install-apps\` (npm ci --prefix e2e/apps)`;

const INSPECTOR_DIR = dirname(require.resolve('@modelcontextprotocol/inspector/package.json'));
export const INSPECTOR_VERSION = (require('@modelcontextprotocol/inspector/package.json') as { version: string })
  .version;

export interface RunningApp {
  /** The page to open, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** What the app printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Spawns `node args` detached in `cwd` with `env` (plus PATH, HOME), waits for `probe`; stop() kills the group. */
async function startApp(
  name: string,
  cwd: string,
  args: string[],
  env: Record<string, string>,
  url: string,
  probe: string,
) {
  const home = mkdtempSync(join(tmpdir(), `${name}-home-`));
  const child = spawn(process.execPath, args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: harnessSettings.PATH, HOME: home, NO_COLOR: '1', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      if ((await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) === false)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      await exited;
    }
    writeFileSync(join(ARTIFACTS, `${name}.log`), output);
    rmSync(home, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await answers(probe))) {
    if (gone || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer ${probe} ${gone ? '(it exited)' : 'within 60 s'}:\n${output}`);
    }
    await sleep(250);
  }
  return { url, output: () => output, stop };
}

/**
 * The MCPJam inspector as `npx @mcpjam/inspector` runs it, minus opening a browser: its server (which also serves
 * the page, from dist/client relative to the working directory) on a free port. It binds 0.0.0.0 (hard-coded).
 */
export async function startMcpJam(): Promise<RunningApp> {
  if (MCPJAM_MISSING) throw new Error(MCPJAM_MISSING);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  return startApp(
    'mcpjam',
    MCPJAM_DIR,
    ['dist/server/index.js'],
    { PORT: String(port), NODE_ENV: 'production' },
    url,
    `${url}health`,
  );
}

/**
 * The official Inspector's web UI (`mcp-inspector --web`) pointed at `mcpUrl` over Streamable HTTP: page, sandbox
 * and app-origin servers on free ports, no browser opened, secrets in memory, its API token handed to the page.
 */
export async function startInspectorWeb(mcpUrl: string): Promise<RunningApp> {
  const [client, sandbox, appOrigin] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}/`;
  const storage = mkdtempSync(join(tmpdir(), 'inspector-web-storage-'));
  const app = await startApp(
    'inspector-web',
    INSPECTOR_DIR,
    [
      join(INSPECTOR_DIR, 'clients', 'launcher', 'build', 'index.js'),
      '--web',
      '--transport',
      'http',
      '--server-url',
      mcpUrl,
    ],
    {
      CLIENT_PORT: String(client),
      MCP_SANDBOX_PORT: String(sandbox),
      MCP_APP_ORIGIN_PORT: String(appOrigin),
      MCP_AUTO_OPEN_ENABLED: 'false',
      MCP_INSPECTOR_SECRET_STORE: 'memory',
      MCP_STORAGE_DIR: storage,
    },
    url,
    url,
  );
  return {
    ...app,
    stop: async () => {
      await app.stop();
      rmSync(storage, { recursive: true, force: true });
    },
  };
}

/** Screenshots of one app's steps: test-results/browser/<app>-<nn>-<step>.png. */
export function shooter(page: Page, app: string): (step: string) => Promise<void> {
  let n = 0;
  return async (step) => {
    n += 1;
    const name = `${app}-${String(n).padStart(2, '0')}-${step}`.replace(/[^\w.-]+/g, '_');
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }).catch(() => {});
  };
}

export interface KeycloakVisit {
  /** Whether Keycloak asked for the password (false: the browser's Keycloak session was reused). */
  login: boolean;
  /** The consent page's text ('' when none was shown). */
  consent: string;
}

/**
 * Keycloak's pages on `page`, however the app got there: the login form (unless the browser has a session), then
 * the consent page if shown, until the page is back on the app.
 */
export async function keycloakSignIn(
  page: Page,
  keycloakOrigin: string,
  user: 'alice' | 'bob',
  shot: (step: string) => Promise<void>,
): Promise<KeycloakVisit> {
  const password = SANDBOX_USERS.find((u) => u.username === user)?.password ?? '';
  await page
    .waitForURL((url) => url.origin === keycloakOrigin, { timeout: 30_000 })
    .catch((error: unknown) => {
      throw new Error(`the app did not send the browser to Keycloak within 30 s (still at ${page.url()})`, {
        cause: error,
      });
    });
  await page.waitForLoadState('domcontentloaded');
  const login = (await page.locator('#username').count()) > 0;
  if (login) {
    await page.fill('#username', user);
    await page.fill('#password', password);
    await shot('keycloak-login');
    await page.click('#kc-login');
  }
  // Either the consent page, or straight back to the app.
  const accept = page.locator('[name="accept"]').first();
  const next = await Promise.race([
    accept.waitFor({ timeout: 30_000 }).then(() => 'consent' as const),
    page.waitForURL((url) => url.origin !== keycloakOrigin, { timeout: 30_000 }).then(() => 'back' as const),
  ]);
  if (next === 'back') return { login, consent: '' };
  const consent = await page.locator('body').innerText();
  await shot('keycloak-consent');
  await accept.click();
  await page.waitForURL((url) => url.origin !== keycloakOrigin, { timeout: 30_000 });
  return { login, consent };
}

/** Every authorization request the page navigates to, as the app built it (watch before the click that sends it). */
export function watchAuthorizations(page: Page, issuer: string): URL[] {
  const seen: URL[] = [];
  const endpoint = `${issuer}/protocol/openid-connect/auth`;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (request.isNavigationRequest() && `${url.origin}${url.pathname}` === endpoint) seen.push(url);
  });
  return seen;
}

export interface Registration {
  status: number;
  /** The page's Origin header, as sent. */
  origin: string | undefined;
  allowOrigin: string | undefined;
  body: Record<string, unknown>;
  request: Record<string, unknown>;
}

/** Records every POST to the realm's registration endpoint the page makes (the browser's own request, not a proxy's). */
export function watchRegistrations(page: Page, issuer: string): Registration[] {
  const seen: Registration[] = [];
  const endpoint = `${issuer}/clients-registrations/openid-connect`;
  page.on('response', (response: Response) => {
    const request = response.request();
    if (request.method() !== 'POST' || response.url() !== endpoint) return;
    void (async () => {
      const headers = await request.allHeaders();
      const entry: Registration = {
        status: response.status(),
        origin: headers.origin,
        allowOrigin: (await response.allHeaders())['access-control-allow-origin'],
        body: {},
        request: JSON.parse(request.postData() ?? '{}') as Record<string, unknown>,
      };
      seen.push(entry);
      try {
        entry.body = (await response.json()) as Record<string, unknown>;
      } catch {
        /* not JSON */
      }
    })();
  });
  return seen;
}
