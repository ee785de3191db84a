// A real browser for the OAuth leg: Debian's Chromium driven by playwright-core, a loopback callback server
// like a CLI would run, and an OAuthClientProvider (the SDK interface) that logs in at Keycloak as a user.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, SANDBOX_USERS } from '@sandbox/stack';

export { CHROMIUM_ARGS };
import { harnessSettings } from './settings.ts';

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results', 'browser');
export const CHROMIUM_PATH = harnessSettings.CHROMIUM_PATH;

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
}

export interface CallbackServer {
  redirectUrl: string;
  next(): Promise<URL>;
  close(): Promise<void>;
}

/** A loopback redirect target (RFC 8252): resolves next() with the callback URL Keycloak redirected to. */
export async function startCallbackServer(): Promise<CallbackServer> {
  let waiting: ((url: URL) => void) | undefined;
  const queue: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    } // e.g. the browser's /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Signed in. You can close this window.</h1>');
    if (waiting) {
      waiting(url);
      waiting = undefined;
    } else queue.push(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    redirectUrl: `http://127.0.0.1:${port}/callback`,
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift() as URL)
        : new Promise((resolve) => {
            waiting = resolve;
          }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ProviderOptions {
  page: Page;
  user: 'alice' | 'bob';
  callback: CallbackServer;
  label: string;
  /** Rewrites the scope of the first authorization request (to start without some scope and test step-up). */
  firstScope?: string;
  clientName?: string;
  /** CIMD: the https URL of this client's metadata document, used as its client_id where the AS supports it. */
  clientMetadataUrl?: string;
}

/** OAuthClientProvider for both SDK lines; in-memory storage, browser-driven authorization. */
export class BrowserOAuthProvider {
  readonly options: ProviderOptions;
  readonly authorizationUrls: URL[] = [];
  readonly screenshots: string[] = [];
  lastCallback: URL | undefined;
  registeredClientId: string | undefined;
  private client: unknown;
  private savedTokens: { access_token: string; scope?: string; refresh_token?: string } | undefined;
  private verifier = '';
  private discovery: unknown;
  private readonly stateValue = randomUUID();

  constructor(options: ProviderOptions) {
    this.options = options;
  }

  get redirectUrl(): string {
    return this.options.callback.redirectUrl;
  }
  get clientMetadataUrl(): string | undefined {
    return this.options.clientMetadataUrl;
  }
  get clientMetadata() {
    return {
      client_name: this.options.clientName ?? `e2e ${this.options.label}`,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state(): string {
    return this.stateValue;
  }
  clientInformation() {
    return this.client as never;
  }
  saveClientInformation(info: { client_id: string }) {
    this.client = info;
    this.registeredClientId = info.client_id;
  }
  tokens() {
    return this.savedTokens as never;
  }
  saveTokens(tokens: { access_token: string; scope?: string; refresh_token?: string }) {
    this.savedTokens = tokens;
  }
  get accessToken(): string | undefined {
    return this.savedTokens?.access_token;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  saveDiscoveryState(state: unknown) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery as never;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    if (this.options.firstScope && this.authorizationUrls.length === 0)
      url.searchParams.set('scope', this.options.firstScope);
    this.authorizationUrls.push(new URL(url));
    const { page, user, label } = this.options;
    const step = this.authorizationUrls.length;
    const callback = this.options.callback.next();
    await signIn(page, url, user, callback, (name) => this.shot(`${label}-${user}-${step}-${name}`));
    this.lastCallback = await callback;
    if (this.lastCallback.searchParams.get('state') !== this.stateValue)
      throw new Error('OAuth state mismatch on the loopback callback');
    const error = this.lastCallback.searchParams.get('error');
    if (error)
      throw new Error(
        `authorization failed: ${error} ${this.lastCallback.searchParams.get('error_description') ?? ''}`,
      );
  }

  private async shot(name: string): Promise<void> {
    const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await this.options.page.screenshot({ path, fullPage: true });
    this.screenshots.push(path);
  }
}

/**
 * Drives Keycloak's pages at `url` as `user`: the login form unless the browser already has a session, then the
 * consent page if shown, until `done` settles (the client's loopback callback was reached).
 *
 * @example await signIn(page, authorizationUrl, 'alice', page.waitForURL(/\/oauth\/callback/))
 */
export async function signIn(
  page: Page,
  url: URL,
  user: 'alice' | 'bob',
  done: Promise<unknown>,
  shot: (name: string) => Promise<void> = async () => {},
): Promise<void> {
  const password = SANDBOX_USERS.find((u) => u.username === user)?.password ?? '';
  await page.goto(url.href);
  const appears = <T>(selector: string, outcome: T) =>
    page
      .locator(selector)
      .first()
      .waitFor({ timeout: 20_000 })
      .then(() => outcome);
  const finished = done.then(() => 'done' as const);
  const first = await Promise.race([
    appears('#username', 'login' as const),
    appears('[name="accept"], #kc-login[value]', 'consent' as const),
    finished,
  ]);
  if (first === 'login') {
    await page.fill('#username', user);
    await page.fill('#password', password);
    await shot('login');
    await page.click('#kc-login');
  }
  if (
    first !== 'done' &&
    (await Promise.race([appears('[name="accept"]', 'consent' as const), finished])) === 'consent'
  ) {
    await shot('consent');
    await page.locator('[name="accept"]').first().click();
  }
  await done;
}
