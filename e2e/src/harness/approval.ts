// The approval device as the e2e suites see it: a user signed in on it in Chromium (their own browser context, signed
// in through the realm), that user's pending requests (the JSON view, with the session's cookie), deciding on the
// page, and the small orders of ACME whose totals cross the e2e stacks' approval threshold (E2E_APPROVAL).
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, signIn } from './browser.ts';
import type { ConnectedClient, ToolCallResult } from './mcp-clients.ts';
import { stack } from './stack.ts';

export const ACME = 142.35;
export const ALL_SCOPES = 'mcp:tools portfolio:read trade:read trade:write';

export interface DeviceRequest {
  id: string;
  user: string;
  client: string;
  bindingMessage: string;
  summary: string;
  scope: string;
  expiresAt: string;
  status: string;
}

/** A user signed in on the approval device, in a browser context of their own. */
export interface Device {
  user: 'alice' | 'bob';
  page: Page;
  /** `<device>/users/<user>`. */
  home: string;
}

/** What the device shows for an order of `quantity` ACME (the binding message, in words). */
export const summaryOf = (quantity: number) =>
  `Buy ${quantity} ACME at ${ACME.toFixed(2)} USD total ${(quantity * ACME).toFixed(2)}`;

/** Opens the user's device page in a new context: the device sends the browser to Keycloak, the user signs in. */
export async function signInOnDevice(browser: Browser, user: 'alice' | 'bob'): Promise<Device> {
  const page = await (await browser.newContext()).newPage();
  const home = `${stack().urls.approvalDevice}/users/${user}`;
  await signIn(page, new URL(home), user, page.waitForURL(home, { timeout: 30_000 }));
  return { user, page, home };
}

/** The signed-in user's requests, from the JSON view with the browser's session cookie. */
export async function deviceRequests(device: Device): Promise<DeviceRequest[]> {
  const response = await device.page.request.get(`${stack().urls.approvalDevice}/requests`);
  if (!response.ok()) throw new Error(`GET /requests as ${device.user}: ${response.status()} ${await response.text()}`);
  return (await response.json()) as DeviceRequest[];
}

/** Polls the device until a pending request with this summary arrives (Keycloak forwards it within a second). */
export async function arrives(device: Device, summary: string): Promise<DeviceRequest> {
  for (let i = 0; i < 40; i += 1) {
    const found = (await deviceRequests(device)).find((r) => r.summary === summary && r.status === 'pending');
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `no pending "${summary}" on ${device.user}'s device: ${JSON.stringify(await deviceRequests(device))}`,
  );
}

/** The user's device page in Chromium: finds the request by its text and clicks Approve or Deny. */
export async function decideOnDevice(device: Device, summary: string, decision: 'Approve' | 'Deny', shot: string) {
  const { page, home } = device;
  await page.goto(home);
  const card = page.locator('section.request', { has: page.getByRole('heading', { name: summary, exact: true }) });
  await card.waitFor({ timeout: 5000 });
  await page.screenshot({ path: join(ARTIFACTS, `approval-${shot}-before.png`), fullPage: true });
  await card.getByRole('button', { name: `${decision}: ${summary}` }).click();
  await page.waitForURL(home);
  await page.screenshot({ path: join(ARTIFACTS, `approval-${shot}-after.png`), fullPage: true });
}

/** The CSRF token the signed-in user's page carries in its forms. */
export async function csrfOf(device: Device): Promise<string> {
  const page = await (await device.page.request.get(device.home)).text();
  const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error(`no CSRF token on ${device.home}`);
  return token;
}

/**
 * POSTs a decision form with the browser context's cookies (as a form on a page would), with the given fields and
 * Origin (default: the device's own).
 */
export async function postDecision(
  device: Device,
  id: string,
  form: Record<string, string>,
  origin: string = stack().urls.approvalDevice,
): Promise<{ status: number; text: string }> {
  const response = await device.page.request.post(`${stack().urls.approvalDevice}/requests/${id}/decision`, {
    form,
    headers: { origin },
    maxRedirects: 0,
  });
  return { status: response.status(), text: await response.text() };
}

/** A GET to the device over node:http with an explicit Host header (fetch cannot set Host). */
export function getWithHost(path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(stack().urls.approvalDevice);
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: Number(url.port), path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
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
