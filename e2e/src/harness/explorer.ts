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

/**
 * The id of the newest call the server holds for the signed-in user (0 if none). Ids only grow, while the list keeps
 * the last 20 calls, so "a new call arrived" is a larger id, not a longer list.
 */
export function newestCallId(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const fragment = await (await fetch('/explorer/calls')).text();
    return Number(/data-call-id="(\d+)"/.exec(fragment)?.[1] ?? 0);
  });
}

/** Waits until the explorer page (it polls every 2 s; no reload) shows a call newer than `id`, and returns it. */
export async function newCallAfter(page: Page, id: number): Promise<Locator> {
  await page.waitForFunction(
    (after) => Number(document.querySelector('article')?.getAttribute('data-call-id') ?? 0) > after,
    id,
    { timeout: 10_000 },
  );
  return page.locator('article').first();
}
