// The workshop explorer (/explorer on the MCP server), in Chromium against the real stack: an attendee signs in
// through Keycloak's login page, a real MCP client (SDK v2) calls tools with a real Keycloak token, and the call shows
// up live with both tokens decoded side by side, the exchange request as sent (hashes in place of secrets), cache miss
// then hit, and the stock API's decision. bob signs in too and never sees alice's calls. Screenshots go to
// test-results/explorer/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { MCP_SERVER_CLIENT } from '@sandbox/stack';
import { ALL_SCOPES } from './harness/approval.ts';
import { launchBrowser } from './harness/browser.ts';
import { newCallAfter, newestCallId, signInToExplorer, textOf } from './harness/explorer.ts';
import { decodeClaims, userToken } from './harness/keycloak.ts';
import { connect, type ConnectedClient } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'explorer');

/** WCAG relative-luminance contrast of an element's text against the first opaque background behind it. */
function contrastOf(page: Page, selector: string): Promise<number> {
  return page
    .locator(selector)
    .first()
    .evaluate((element) => {
      const rgb = (value: string) => (value.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
        const channel = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      let node: Element | null = element;
      let background = [255, 255, 255];
      while (node) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
        if (a > 0.99) {
          background = [r ?? 255, g ?? 255, b ?? 255];
          break;
        }
        node = node.parentElement;
      }
      const [l1, l2] = [luminance(rgb(getComputedStyle(element).color)), luminance(background)].sort((x, y) => y - x);
      return ((l1 ?? 0) + 0.05) / ((l2 ?? 0) + 0.05);
    });
}

describe('workshop explorer: each attendee watches their own token exchanges, live', () => {
  let browser: Browser;
  let alicePage: Page;
  let bobPage: Page;
  let alice: ConnectedClient;
  let aliceToken: string;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    alicePage = await (await browser.newContext()).newPage();
    bobPage = await (await browser.newContext()).newPage();
    aliceToken = await userToken('alice', ALL_SCOPES);
    alice = await connect('v2 @ 2026-07-28', aliceToken);
  });
  after(async () => {
    await alice?.close();
    await browser?.close();
  });

  it("alice's tool call appears without a reload: tokens side by side, the exchange as sent, a miss then a hit", async () => {
    await signInToExplorer(alicePage, 'alice');
    const before = await newestCallId(alicePage); // earlier suites' calls as alice are listed too
    const result = await alice.callTool('get_portfolio', {});
    assert.ok(!result.isError, JSON.stringify(result));
    const call = await newCallAfter(alicePage, before);
    assert.equal(await call.getAttribute('data-tool'), 'get_portfolio');
    assert.match(await textOf(alicePage.locator('#live')), /New call: get_portfolio succeeded at/);

    const audRow = call.locator('tbody tr.differs', { hasText: 'stock-api' });
    assert.equal(await audRow.count(), 1, 'the aud row is marked as differing');
    assert.match(await textOf(audRow.locator('td').first()), new RegExp(stack().urls.mcp.replace(/[/.]/g, '\\$&')));
    assert.equal(await textOf(audRow.locator('td').nth(1)), 'stock-api');
    const differing = (await call.locator('tbody tr.differs th[scope="row"]').allTextContents()).map((t) =>
      t.replace(/differs$/, ''),
    );
    for (const claim of ['aud', 'azp', 'scope']) assert.ok(differing.includes(claim), `${claim} differs: ${differing}`);
    assert.ok(!differing.includes('sub'), 'the user is the same on both tokens');

    const sent = await textOf(call.locator('[data-field="exchange-request"]'));
    // The token endpoint the MCP server really calls: localhost natively, keycloak:8080 inside compose.
    const { host } = new URL(stack().provider === 'compose' ? 'http://keycloak:8080' : stack().urls.keycloak);
    assert.ok(sent.startsWith(`POST http://${host}/realms/sandbox/protocol/openid-connect/token `), sent);
    assert.match(sent, /grant_type=urn:ietf:params:oauth:grant-type:token-exchange/);
    assert.match(sent, /audience=stock-api/);
    assert.match(sent, /scope=portfolio:read/);
    assert.match(sent, /subject_token=<access token, sha256 [0-9a-f]{16}>/);
    const html = await alicePage.content();
    assert.ok(!html.includes(aliceToken), 'the page never shows the token itself');
    assert.ok(!html.includes(MCP_SERVER_CLIENT.secret), 'nor the client secret');
    assert.match(await textOf(call.locator('[data-field="cache"]')), /^miss/);
    assert.match(await textOf(call.locator('[data-field="decision"]')), /^200 allowed/);
    await alicePage.screenshot({ path: join(SHOTS, 'alice-first-call.png'), fullPage: true });

    const first = Number(await call.getAttribute('data-call-id'));
    await alice.callTool('get_portfolio', {});
    const second = await newCallAfter(alicePage, first);
    assert.match(await textOf(second.locator('[data-field="cache"]')), /^hit: .*no request to Keycloak/);
    assert.equal(await second.locator('[data-field="exchange-request"]').count(), 0);
    await alicePage.screenshot({ path: join(SHOTS, 'alice-cache-hit.png'), fullPage: true });
  });

  it("bob signs in and never sees alice's calls, only his own", async () => {
    const aliceJti = String(decodeClaims(aliceToken).jti);
    await signInToExplorer(bobPage, 'bob');
    assert.ok(!(await bobPage.content()).includes(aliceJti), "alice's call is not on bob's page");
    const before = await newestCallId(bobPage);
    const bobToken = await userToken('bob', 'mcp:tools portfolio:read trade:read');
    const bob = await connect('v2 @ 2025-11-25', bobToken);
    try {
      await bob.callTool('get_portfolio', {});
    } finally {
      await bob.close();
    }
    await newCallAfter(bobPage, before);
    const page = await bobPage.content();
    assert.ok(page.includes(String(decodeClaims(bobToken).jti)), "bob's own call is shown");
    assert.ok(!page.includes(aliceJti), "alice's call still is not");
    const fragment = await bobPage.evaluate(async () => (await fetch('/explorer/calls')).text());
    assert.ok(!fragment.includes(aliceJti) && !fragment.includes('>alice<'), 'nor in the polled fragment');
    await bobPage.screenshot({ path: join(SHOTS, 'bob-own-calls-only.png'), fullPage: true });
  });

  it('is accessible: named controls, table headers, a live region, contrast of at least 4.5:1, keyboard sign-out', async () => {
    const page = alicePage;
    assert.equal(await page.locator('#live[role="status"][aria-live="polite"]').count(), 1);
    assert.ok((await page.locator('th[scope="col"]').count()) >= 3);
    assert.equal(await page.locator('html[lang="en"]').count(), 1);
    for (const selector of ['body', 'tr.differs td', 'tr.differs th', '.badge', 'pre', 'button'])
      assert.ok((await contrastOf(page, selector)) >= 4.5, `${selector} contrast ${await contrastOf(page, selector)}`);
    await page.locator('button', { hasText: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#sign-in').waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(async () => (await fetch('/explorer/calls')).status), 401);
  });

  it('a session cookie copied before sign-out is refused after it (the server deletes the session)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signInToExplorer(page, 'bob');
      const cookie = (await context.cookies()).find((c) => c.name === 'explorer_session');
      assert.ok(cookie, 'no session cookie after sign-in');
      const withCookie = () =>
        fetch(`${stack().urls.mcpOrigin}/explorer/calls`, { headers: { cookie: `explorer_session=${cookie.value}` } });
      assert.equal((await withCookie()).status, 200, 'the copied cookie works while signed in');
      await page.locator('button', { hasText: 'Sign out' }).click();
      await page.locator('#sign-in').waitFor({ timeout: 10_000 });
      assert.equal((await withCookie()).status, 401, 'the copied cookie still works after sign-out');
    } finally {
      await context.close();
    }
  });

  it('refuses a foreign Host (DNS rebinding) and forbids framing', async () => {
    const page = await fetch(`${stack().urls.mcpOrigin}/explorer`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    // fetch cannot set Host; node:http can.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL('/explorer', stack().urls.mcpOrigin);
      request({ host: '127.0.0.1', port: url.port, path: url.pathname, headers: { host: 'attacker.example' } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 403);
    // A page of another origin that frames the explorer gets nothing rendered in the frame.
    const attacker = await (await browser.newContext()).newPage();
    await attacker.setContent(`<iframe id="f" src="${stack().urls.mcpOrigin}/explorer"></iframe>`);
    await attacker.waitForTimeout(1000);
    const framed = attacker.frames().find((f) => f.url().includes('/explorer'));
    const text = framed ? await framed.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
    assert.doesNotMatch(text, /Sign in/, 'the explorer rendered inside a foreign frame');
    await attacker.context().close();
  });
});
