// Human approval of large orders (OpenID CIBA, poll mode), end to end. A real SDK client calls place_order. The stock
// API refuses the order without approval. The MCP server asks Keycloak to authenticate the token's user, and Keycloak
// sends the request to the approval device. In Chromium, the user approves or denies it on the device's page. Only
// the token that CIBA returns (scope trade:approved) gets the order placed. The e2e stacks lower the threshold and the
// wait (E2E_APPROVAL), so orders of a few ACME shares need approval and "nobody answers" ends in seconds.
// The README walkthrough (`make call`) is in approval-walkthrough.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { E2E_APPROVAL } from '@sandbox/stack';
import {
  ACME,
  acmeHeld,
  ALL_SCOPES,
  arrives,
  decideOnDevice,
  deviceRequests,
  errorCode,
  order,
  summaryOf,
} from './harness/approval.ts';
import { launchBrowser } from './harness/browser.ts';
import { adminApi, userToken } from './harness/keycloak.ts';
import { connect, type ConnectedClient, type ToolCallResult } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

describe(`human approval of orders above ${E2E_APPROVAL.thresholdUsd} USD (CIBA through the approval device)`, () => {
  let browser: Browser;
  let page: Page;
  let alice: ConnectedClient;
  before(async () => {
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    alice = await connect('v2 @ 2026-07-28', await userToken('alice', ALL_SCOPES));
  });
  after(async () => {
    await alice?.close();
    await browser?.close();
  });

  it('below the threshold nothing changes: the order fills at once and no request reaches the device', async () => {
    const before = (await deviceRequests('alice')).length;
    const small = Math.floor(E2E_APPROVAL.thresholdUsd / ACME); // 7 ACME = 996.45 USD
    const result = await alice.callTool('place_order', order(small));
    assert.ok(!result.isError, JSON.stringify(result));
    assert.equal((result.structuredContent?.order as { approvedBy: string | null }).approvedBy, null);
    assert.equal((await deviceRequests('alice')).length, before);
  });

  it('alice approves on her device: the order is placed, and the stock API saw the approval scope', async () => {
    const held = await acmeHeld(alice);
    const progress: string[] = [];
    const call = alice.callTool('place_order', order(8), { onprogress: (p) => progress.push(p.message ?? '') });
    const request = await arrives('alice', summaryOf(8));
    assert.equal(request.bindingMessage, 'Buy-8-ACME-at-142.35-USD-total-1138.80');
    assert.match(request.scope, /trade:approved/);
    await decideOnDevice(page, 'alice', summaryOf(8), 'Approve', 'approve');
    const result = await call;
    assert.ok(!result.isError, JSON.stringify(result));
    const placed = result.structuredContent?.order as { id: string; approvedBy: string; status: string };
    assert.equal(placed.approvedBy, 'ciba');
    assert.match(result.content[0]?.text ?? '', /approved on alice's device/);
    assert.equal(await acmeHeld(alice), held + 8, 'the order is not in the portfolio');
    const received = (await (await fetch(`${stack().urls.stockApi}/_sandbox/received`)).json()) as {
      decisions: Array<{ route: string; accepted: boolean; scope: string | null; azp: string | null; aud: string[] }>;
    };
    // Two POST /orders: first with the user's exchanged token (refused: approval_required), then with the exchange
    // of the CIBA token, the only one carrying trade:approved. Both are exchanged tokens of the MCP server.
    const [refused, approvedCall] = received.decisions.filter((d) => d.route === 'POST /orders').slice(-2);
    assert.doesNotMatch(refused?.scope ?? '', /trade:approved/);
    assert.match(approvedCall?.scope ?? '', /trade:approved/, JSON.stringify(received.decisions.slice(-4)));
    assert.equal(approvedCall?.azp, stack().urls.mcp);
    // The CIBA token itself has aud [MCP resource, stock-api]; only its exchange has exactly stock-api.
    assert.deepEqual(approvedCall?.aud, ['stock-api'], 'the stock API got the CIBA token, not its exchange');
    assert.equal((await deviceRequests('alice')).find((r) => r.id === request.id)?.status, 'approved');
    // 2026-07-28 with a progressToken: the response became an SSE stream carrying the wait.
    assert.match(
      progress[0] ?? '',
      /Waiting \d+ s for alice to approve "Buy 8 ACME at 142\.35 USD, total 1,138\.80" on their device \(\/users\/alice\)/,
    );
  });

  it('a 2025-11-25 client that asks for progress hears the wait too, over the stateless SSE response', async () => {
    const legacy = await connect('v2 @ 2025-11-25', await userToken('alice', ALL_SCOPES));
    try {
      const progress: string[] = [];
      const call = legacy.callTool('place_order', order(8), { onprogress: (p) => progress.push(p.message ?? '') });
      await arrives('alice', summaryOf(8));
      await decideOnDevice(page, 'alice', summaryOf(8), 'Approve', 'legacy');
      const result = await call;
      assert.ok(!result.isError, JSON.stringify(result));
      assert.equal(legacy.protocolVersion(), '2025-11-25');
      assert.ok(progress.length >= 1, 'no progress notification reached the 2025-11-25 client');
      assert.match(progress[0] ?? '', /Waiting \d+ s for alice to approve/);
    } finally {
      await legacy.close();
    }
  });

  it('alice denies: a tool error that says so, and no order', async () => {
    const held = await acmeHeld(alice);
    const call = alice.callTool('place_order', order(9));
    await arrives('alice', summaryOf(9));
    await decideOnDevice(page, 'alice', summaryOf(9), 'Deny', 'deny');
    const result = await call;
    assert.equal(result.isError, true);
    assert.equal(errorCode(result), 'approval_denied');
    assert.match(result.content[0]?.text ?? '', /alice denied .*Buy 9 ACME.* No order was placed/);
    assert.equal(await acmeHeld(alice), held);
  });

  it(`nobody answers: after ${E2E_APPROVAL.timeoutS} s a timeout tool error, and no order`, async () => {
    const held = await acmeHeld(alice);
    const started = Date.now();
    const call = alice.callTool('place_order', order(10));
    const request = await arrives('alice', summaryOf(10));
    const result = await call;
    assert.equal(errorCode(result), 'approval_timeout', JSON.stringify(result));
    assert.match(result.content[0]?.text ?? '', /No decision .* within 8 s.* No order was placed/);
    assert.ok(Date.now() - started >= E2E_APPROVAL.timeoutS * 1000 - 500);
    assert.equal(await acmeHeld(alice), held);
    // Deciding late reaches Keycloak, but no one is polling any more: still no order.
    await decideOnDevice(page, 'alice', summaryOf(10), 'Approve', 'late');
    assert.equal(await acmeHeld(alice), held);
    assert.notEqual((await deviceRequests('alice')).find((r) => r.id === request.id)?.status, 'pending');
  });

  it("Keycloak's request expires before anyone decides: a tool error that says so, and no order", async () => {
    // Shorten the realm's CIBA lifetime (cibaExpiresIn, 120 s) below the server's wait, for this test only.
    const realm = (await (await adminApi('')).json()) as { attributes: Record<string, string> };
    const setExpiry = (seconds: string) =>
      adminApi('', {
        method: 'PUT',
        body: JSON.stringify({ attributes: { ...realm.attributes, cibaExpiresIn: seconds } }),
      });
    const held = await acmeHeld(alice);
    try {
      assert.equal((await setExpiry('3')).status, 204);
      const result = await alice.callTool('place_order', order(13));
      assert.equal(errorCode(result), 'approval_expired', JSON.stringify(result));
      assert.match(
        result.content[0]?.text ?? '',
        /Nobody approved "Buy 13 ACME.*" before Keycloak's approval request expired \(3 s\)\. No order was placed/,
      );
    } finally {
      await setExpiry(realm.attributes.cibaExpiresIn ?? '120');
    }
    assert.equal(await acmeHeld(alice), held);
  });

  it('two concurrent orders by alice each show their own message and are decided separately', async () => {
    const held = await acmeHeld(alice);
    const [eleven, twelve] = [alice.callTool('place_order', order(11)), alice.callTool('place_order', order(12))];
    const [first, second] = await Promise.all([arrives('alice', summaryOf(11)), arrives('alice', summaryOf(12))]);
    assert.notEqual(first.id, second.id);
    await decideOnDevice(page, 'alice', summaryOf(12), 'Approve', 'concurrent-approve');
    await decideOnDevice(page, 'alice', summaryOf(11), 'Deny', 'concurrent-deny');
    const [denied, approved] = await Promise.all([eleven, twelve]);
    assert.equal(errorCode(denied), 'approval_denied');
    assert.ok(!approved.isError, JSON.stringify(approved));
    assert.equal((approved.structuredContent?.order as { quantity: number }).quantity, 12);
    assert.equal(await acmeHeld(alice), held + 12);
  });

  it('a 2026-07-28 client that takes URL elicitation is sent to the device page, and the call completes on its retry', async () => {
    const held = await acmeHeld(alice);
    const client = new Client({ name: 'e2e-elicitation', version: '1.0.0' }, {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      capabilities: { elicitation: { url: {} } },
    } as never);
    const asked: Array<{ mode?: string; url?: string; message?: string }> = [];
    // What a desktop client does with a URL elicitation: show it, let the user open it. Here alice opens it in
    // Chromium and approves there; then the client answers "accept" and the SDK retries the call.
    const onElicit = async (request: { params: { mode?: string; url?: string; message?: string } }) => {
      asked.push(request.params);
      await page.goto(request.params.url ?? 'about:blank');
      await decideOnDevice(page, 'alice', summaryOf(9), 'Approve', 'elicitation');
      return { action: 'accept' };
    };
    client.setRequestHandler('elicitation/create', onElicit as never);
    const token = await userToken('alice', ALL_SCOPES);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(stack().urls.mcp), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const result = (await client.callTool({ name: 'place_order', arguments: order(9) })) as ToolCallResult;
      assert.ok(!result.isError, JSON.stringify(result));
      assert.equal((result.structuredContent?.order as { approvedBy: string }).approvedBy, 'ciba');
      assert.equal(asked.length, 1);
      assert.equal(asked[0]?.mode, 'url');
      assert.equal(asked[0]?.url, `${stack().urls.approvalDevice}/users/alice`);
      assert.match(asked[0]?.message ?? '', /Approve "Buy 9 ACME at 142\.35 USD, total 1,281\.15" on your device/);
      assert.equal(await acmeHeld(alice), held + 9);
    } finally {
      await client.close();
    }
  });

  it('bob is refused before any approval request: his device never hears of it', async () => {
    const bob = await connect('v2 @ 2026-07-28', await userToken('bob', ALL_SCOPES));
    try {
      const result = await bob.callTool('place_order', order(8));
      assert.equal(result.isError, true);
      assert.match(result.content[0]?.text ?? '', /bob cannot use place_order: .*"trader"/);
    } finally {
      await bob.close();
    }
    assert.deepEqual(await deviceRequests('bob'), []);
  });
});
