// The approval device as the e2e suites see it: its pending requests (JSON view), Chromium deciding on its page, and
// the small orders of ACME whose totals cross the e2e stacks' approval threshold (E2E_APPROVAL).
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from './browser.ts';
import type { ConnectedClient, ToolCallResult } from './mcp-clients.ts';
import { stack } from './stack.ts';

export const ACME = 142.35;
export const ALL_SCOPES = 'mcp:tools portfolio:read trade:read trade:write';

export interface DeviceRequest {
  id: string;
  user: string;
  bindingMessage: string;
  summary: string;
  scope: string;
  status: string;
}

/** What the device shows for an order of `quantity` ACME (the binding message, in words). */
export const summaryOf = (quantity: number) =>
  `Buy ${quantity} ACME at ${ACME.toFixed(2)} USD total ${(quantity * ACME).toFixed(2)}`;

export async function deviceRequests(user: string): Promise<DeviceRequest[]> {
  return (await (await fetch(`${stack().urls.approvalDevice}/requests?user=${user}`)).json()) as DeviceRequest[];
}

/** Polls the device until a pending request with this summary arrives (Keycloak forwards it within a second). */
export async function arrives(user: string, summary: string): Promise<DeviceRequest> {
  for (let i = 0; i < 40; i += 1) {
    const found = (await deviceRequests(user)).find((r) => r.summary === summary && r.status === 'pending');
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no pending "${summary}" on ${user}'s device: ${JSON.stringify(await deviceRequests(user))}`);
}

/** The user's device page in Chromium: finds the request by its text and clicks Approve or Deny. */
export async function decideOnDevice(
  page: Page,
  user: string,
  summary: string,
  decision: 'Approve' | 'Deny',
  shot: string,
) {
  await page.goto(`${stack().urls.approvalDevice}/users/${user}`);
  const card = page.locator('section.request', { has: page.getByRole('heading', { name: summary, exact: true }) });
  await card.waitFor({ timeout: 5000 });
  await page.screenshot({ path: join(ARTIFACTS, `approval-${shot}-before.png`), fullPage: true });
  await card.getByRole('button', { name: `${decision}: ${summary}` }).click();
  await page.waitForURL(`${stack().urls.approvalDevice}/users/${user}`);
  await page.screenshot({ path: join(ARTIFACTS, `approval-${shot}-after.png`), fullPage: true });
}

export const acmeHeld = async (client: ConnectedClient) => {
  const result = await client.callTool('get_portfolio');
  const holdings = (result.structuredContent?.portfolio as { holdings: Array<{ symbol: string; quantity: number }> })
    .holdings;
  return holdings.find((h) => h.symbol === 'ACME')?.quantity ?? 0;
};
export const order = (quantity: number) => ({ symbol: 'ACME', side: 'buy', quantity });
export const errorCode = (result: ToolCallResult) =>
  (result.structuredContent as { error?: string } | undefined)?.error;
