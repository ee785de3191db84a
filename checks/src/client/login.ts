// The scripted user: Chromium (playwright-core) opens each authorization URL the client prints, signs in on the real
// Keycloak login page, accepts the consent page, and waits until Keycloak redirects to the client's redirect URI.
// One browser profile for the whole run, so a step-up login finds the user's SSO session, as a person's would.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '@sandbox/stack';
import type { AuthorizationRequest } from './observations.ts';

const STEP_TIMEOUT_MS = 30_000;

export interface LoginOptions {
  chromiumPath: string;
  authorizationEndpoint: string;
  username: string;
  password: string;
  startedAt: number;
  /** Where screenshots of the login and consent pages go (none if unset). */
  screenshotDir?: string;
}

export interface ScriptedUser {
  /** Scans client output for authorization URLs not seen yet and signs in at each, one after another. */
  scan(output: string): void;
  authorizations: AuthorizationRequest[];
  /** Resolves when every login started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startScriptedUser(options: LoginOptions): Promise<ScriptedUser> {
  const browser: Browser = await chromium.launch({
    executablePath: options.chromiumPath,
    args: [...CHROMIUM_ARGS],
    headless: true,
  });
  const context: BrowserContext = await browser.newContext();
  const authorizations: AuthorizationRequest[] = [];
  const seen = new Set<string>();
  let queue: Promise<void> = Promise.resolve();
  const endpoint = options.authorizationEndpoint;
  if (options.screenshotDir) mkdirSync(options.screenshotDir, { recursive: true });

  async function login(url: URL, n: number): Promise<void> {
    const record: AuthorizationRequest = {
      at: Date.now() - options.startedAt,
      params: Object.fromEntries(url.searchParams),
      outcome: 'error',
    };
    authorizations.push(record);
    const page: Page = await context.newPage(); // a fresh tab: the last one still shows the previous callback URL
    const shot = async (name: string) => {
      if (options.screenshotDir) await page.screenshot({ path: join(options.screenshotDir, `login-${n}-${name}.png`) });
    };
    const redirectUri = record.params.redirect_uri;
    const redirected = page
      .waitForURL(
        (current) =>
          redirectUri
            ? current.href.startsWith(redirectUri)
            : !current.href.startsWith(endpoint.replace(/\/protocol\/.*$/, '')),
        {
          timeout: STEP_TIMEOUT_MS,
          waitUntil: 'commit',
        },
      )
      .then(() => 'redirected' as const)
      .catch(() => 'timeout' as const);
    const appears = <T>(selector: string, outcome: T) =>
      page
        .locator(selector)
        .first()
        .waitFor({ timeout: STEP_TIMEOUT_MS })
        .then(() => outcome)
        .catch(() => 'timeout' as const); // a race's losers time out after the winner: never an unhandled rejection
    const refused = () => appears('#kc-error-message', 'error' as const);
    try {
      await page.goto(url.href); // until 'load': a form filled before the page's scripts ran may be reset
      let step = await Promise.race([
        appears('#username', 'login' as const),
        appears('[name="accept"]', 'consent' as const),
        refused(),
        redirected,
      ]);
      if (step === 'login') {
        await page.fill('#username', options.username);
        await page.fill('#password', options.password);
        await shot('login');
        await page.click('#kc-login');
        step = await Promise.race([
          appears('[name="accept"]', 'consent' as const),
          refused(),
          redirected,
          appears('#input-error', 'error' as const),
        ]);
      }
      if (step === 'consent') {
        await shot('consent');
        await page.locator('[name="accept"]').first().click();
        step = await Promise.race([refused(), redirected]);
      }
      if (step === 'redirected') record.outcome = 'redirected';
      else if (step === 'timeout')
        record.error = `the login did not reach the redirect URI within ${STEP_TIMEOUT_MS / 1000} s`;
      else
        record.error = (await page.locator('#kc-error-message, #input-error').first().innerText())
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 300);
    } catch (error) {
      record.error = `the login did not finish within ${STEP_TIMEOUT_MS / 1000} s: ${(error as Error).message.split('\n')[0]}`;
    } finally {
      await shot('end').catch(() => {});
      await page.close().catch(() => {});
    }
  }

  return {
    authorizations,
    scan(output) {
      for (const match of output.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
        const href = match[0];
        // A URL at the very end of the output may still be arriving in the next chunk: wait for what ends it.
        if (match.index + href.length === output.length) continue;
        if (!href.startsWith(`${endpoint}?`) || seen.has(href)) continue;
        seen.add(href);
        const n = seen.size;
        queue = queue.then(() => login(new URL(href), n));
      }
    },
    idle: () => queue,
    async close() {
      await queue.catch(() => {});
      await context.close();
      await browser.close();
    },
  };
}
