// The workshop explorer as a user drives it (e2e/src/explorer.test.ts and the workshop walkthrough).
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { SANDBOX_USERS } from '@sandbox/stack';
import { stack } from './stack.ts';

/** An element's text with whitespace collapsed (the page is indented HTML). */
export const textOf = async (locator: Locator) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

/** Signs in to the explorer with the keyboard only: Tab to the link, Enter, then Keycloak's login form. */
export async function signInToExplorer(page: Page, user: 'alice' | 'bob'): Promise<void> {
  await page.goto(`${stack().urls.mcpOrigin}/explorer`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'sign-in', 'the first Tab stop is "Sign in"');
  await page.keyboard.press('Enter');
  await page.locator('#username').waitFor({ timeout: 20_000 });
  await page.fill('#username', user);
  await page.fill('#password', SANDBOX_USERS.find((u) => u.username === user)?.password ?? '');
  await page.click('#kc-login');
  await page.waitForURL(/\/explorer$/, { timeout: 20_000 });
  assert.equal(await textOf(page.locator('#who')), user);
}

/** Waits until the explorer shows more than `count` calls (it polls every 2 s; no reload). */
export async function callsShown(page: Page, count: number): Promise<Locator> {
  await page.waitForFunction((n) => document.querySelectorAll('article').length > n, count, { timeout: 10_000 });
  return page.locator('article').first();
}
