// Human approval of large orders (OpenID CIBA, poll mode), end to end. A real SDK client calls place_order. The stock
// API refuses the order without approval. The MCP server asks Keycloak to authenticate the token's user, and Keycloak
// sends the request to the approval device. In Chromium, the user approves or denies it on the device's page. Only
// the token that CIBA returns (scope trade:approved) gets the order placed. The e2e stacks lower the threshold and the
// wait (E2E_APPROVAL), so orders of a few ACME shares need approval and "nobody answers" ends in seconds.
// The README walkthrough (`make call`) is in approval-walkthrough.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { E2E_APPROVAL } from '@sandbox/stack';
import {
  ACME,
  acmeHeld,
  ALL_SCOPES,
  arrives,
  csrfOf,
  decideOnDevice,
  type Device,
  deviceRequests,
  errorCode,
  getWithHost,
  order,
  postDecision,
  signInOnDevice,
  summaryOf,
} from './harness/approval.ts';
import { ARTIFACTS, launchBrowser } from './harness/browser.ts';
import { adminApi, userToken } from './harness/keycloak.ts';
import { connect, type ConnectedClient, type ToolCallResult } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

describe(`human approval of orders above ${E2E_APPROVAL.thresholdUsd} USD (CIBA through the approval device)`, () => {
  let browser: Browser;
  let device: Device;
  let bobsDevice: Device;
  let alice: ConnectedClient;
  before(async () => {
    browser = await launchBrowser();
    // Each user signs in on the device (through the realm) in a browser context of their own.
    device = await signInOnDevice(browser, 'alice');
    bobsDevice = await signInOnDevice(browser, 'bob');
    alice = await connect('v2 @ 2026-07-28', await userToken('alice', ALL_SCOPES));
  });
  after(async () => {
    await alice?.close();
    await browser?.close();
  });

  it('below the threshold nothing changes: the order fills at once and no request reaches the device', async () => {
    const before = (await deviceRequests(device)).length;
    const small = Math.floor(E2E_APPROVAL.thresholdUsd / ACME); // 7 ACME = 996.45 USD
    const result = await alice.callTool('place_order', order(small));
    assert.ok(!result.isError, JSON.stringify(result));
    assert.equal((result.structuredContent?.order as { approvedBy: string | null }).approvedBy, null);
    assert.equal((await deviceRequests(device)).length, before);
  });

  it('alice approves on her device: the order is placed, and the stock API saw the approval scope', async () => {
    const held = await acmeHeld(alice);
    const progress: string[] = [];
    const call = alice.callTool('place_order', order(8), { onprogress: (p) => progress.push(p.message ?? '') });
    const request = await arrives(device, summaryOf(8));
    assert.equal(request.bindingMessage, 'Buy-8-ACME-at-142.35-USD-total-1138.80');
    assert.match(request.scope, /trade:approved/);
    await decideOnDevice(device, summaryOf(8), 'Approve', 'approve');
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
    assert.equal((await deviceRequests(device)).find((r) => r.id === request.id)?.status, 'approved');
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
      await arrives(device, summaryOf(8));
      await decideOnDevice(device, summaryOf(8), 'Approve', 'legacy');
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
    await arrives(device, summaryOf(9));
    await decideOnDevice(device, summaryOf(9), 'Deny', 'deny');
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
    const request = await arrives(device, summaryOf(10));
    const result = await call;
    assert.equal(errorCode(result), 'approval_timeout', JSON.stringify(result));
    assert.match(result.content[0]?.text ?? '', /No decision .* within 8 s.* No order was placed/);
    assert.ok(Date.now() - started >= E2E_APPROVAL.timeoutS * 1000 - 500);
    assert.equal(await acmeHeld(alice), held);
    // Deciding late reaches Keycloak, but no one is polling any more: still no order.
    await decideOnDevice(device, summaryOf(10), 'Approve', 'late');
    assert.equal(await acmeHeld(alice), held);
    assert.notEqual((await deviceRequests(device)).find((r) => r.id === request.id)?.status, 'pending');
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
    const [first, second] = await Promise.all([arrives(device, summaryOf(11)), arrives(device, summaryOf(12))]);
    assert.notEqual(first.id, second.id);
    await decideOnDevice(device, summaryOf(12), 'Approve', 'concurrent-approve');
    await decideOnDevice(device, summaryOf(11), 'Deny', 'concurrent-deny');
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
      await device.page.goto(request.params.url ?? 'about:blank');
      await decideOnDevice(device, summaryOf(9), 'Approve', 'elicitation');
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
    assert.deepEqual(await deviceRequests(bobsDevice), []);
  });

  // The device is the user's own (docs/approval.md, "The device's threat model").
  it("bob, signed in on the device, can neither see nor decide alice's request, and no order is placed", async () => {
    const held = await acmeHeld(alice);
    const call = alice.callTool('place_order', order(16));
    const request = await arrives(device, summaryOf(16));
    const page = await bobsDevice.page.goto(device.home);
    assert.equal(page?.status(), 403, "bob opened alice's device page");
    assert.equal(await bobsDevice.page.locator('h1').innerText(), "This is alice's device");
    assert.match(await bobsDevice.page.locator('main').innerText(), /signed in as bob/);
    await bobsDevice.page.screenshot({ path: join(ARTIFACTS, 'approval-bob-on-alice.png'), fullPage: true });
    assert.ok(!(await deviceRequests(bobsDevice)).some((r) => r.id === request.id), "bob's JSON view lists it");
    const decided = await postDecision(bobsDevice, request.id, { decision: 'approve', csrf: await csrfOf(bobsDevice) });
    assert.equal(decided.status, 404, decided.text);
    assert.equal((await deviceRequests(device)).find((r) => r.id === request.id)?.status, 'pending');
    await decideOnDevice(device, summaryOf(16), 'Deny', 'bob-refused');
    assert.equal(errorCode(await call), 'approval_denied');
    assert.equal(await acmeHeld(alice), held);
  });

  it('refuses an unauthenticated POST, one without the CSRF token, one from another origin, and a replay: one order', async () => {
    const held = await acmeHeld(alice);
    const call = alice.callTool('place_order', order(8));
    const request = await arrives(device, summaryOf(8));
    const anonymous = await fetch(`${stack().urls.approvalDevice}/requests/${request.id}/decision`, {
      method: 'POST',
      body: new URLSearchParams({ decision: 'approve' }),
      redirect: 'manual',
    });
    assert.equal(anonymous.status, 401);
    // alice's own browser, but not a form her device page made: no CSRF token.
    const noToken = await postDecision(device, request.id, { decision: 'approve' });
    assert.equal(noToken.status, 403);
    assert.match(noToken.text, /CSRF token/);
    // A form on another port of localhost is same-site (the Lax cookie rides along), but not same-origin.
    const csrf = await csrfOf(device);
    const crossOrigin = await postDecision(device, request.id, { decision: 'approve', csrf }, stack().urls.mcpOrigin);
    assert.equal(crossOrigin.status, 403);
    assert.match(crossOrigin.text, /Cross-origin request refused/);
    assert.equal((await deviceRequests(device)).find((r) => r.id === request.id)?.status, 'pending');
    await decideOnDevice(device, summaryOf(8), 'Approve', 'once');
    const result = await call;
    assert.ok(!result.isError, JSON.stringify(result));
    assert.equal(await acmeHeld(alice), held + 8);
    for (const decision of ['approve', 'deny']) {
      const replay = await postDecision(device, request.id, { decision, csrf });
      assert.equal(replay.status, 409, replay.text);
      assert.match(replay.text, /Already decided/);
    }
    assert.equal((await deviceRequests(device)).find((r) => r.id === request.id)?.status, 'approved');
    assert.equal(await acmeHeld(alice), held + 8, 'a replayed decision placed another order');
  });

  it("refuses a channel request that does not carry Keycloak's channel token, even a real realm token of another kind", async () => {
    const post = (authorization: string) =>
      fetch(`${stack().urls.approvalDevice}/ciba/requests`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ login_hint: 'alice', binding_message: 'Buy-999-ACME-fake', scope: 'openid' }),
      });
    const forged = await post('Bearer not-a-token');
    assert.equal(forged.status, 401);
    // alice's access token is signed by the realm, but its audience is the MCP server, not the realm.
    const accessToken = await post(`Bearer ${await userToken('alice', ALL_SCOPES)}`);
    assert.equal(accessToken.status, 401);
    assert.match(((await accessToken.json()) as { error_description: string }).error_description, /audience/);
    assert.ok(!(await deviceRequests(device)).some((r) => r.bindingMessage === 'Buy-999-ACME-fake'));
  });

  it('refuses a foreign Host (DNS rebinding), and will not be framed by a page on another port (clickjacking)', async () => {
    const port = new URL(stack().urls.approvalDevice).port;
    for (const host of [`attacker.example:${port}`, 'attacker.example']) {
      const refused = await getWithHost('/users/alice', host);
      assert.equal(refused.status, 403, host);
      assert.match(refused.body, /Invalid Host header/);
    }
    assert.equal((await getWithHost('/healthz', `localhost:${port}`)).status, 200);
    // The attacker's page is on localhost too (same site), so alice's Lax session cookie reaches the framed device.
    const attackerSite = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<h1>Win a prize</h1><iframe src="${device.home}" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
    const attacker = await device.page.context().newPage();
    try {
      const messages: string[] = [];
      attacker.on('console', (message) => messages.push(message.text()));
      const framed = attacker.waitForResponse((r) => r.url() === device.home);
      await attacker.goto(`http://localhost:${(attackerSite.address() as { port: number }).port}/`);
      const response = await framed;
      assert.equal(
        response.status(),
        200,
        'the framed device did not get alice’s session (the test would prove nothing)',
      );
      assert.equal(response.headers()['x-frame-options'], 'DENY');
      assert.match(response.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      await attacker.waitForTimeout(500);
      await attacker.screenshot({ path: join(ARTIFACTS, 'approval-framed.png'), fullPage: true });
      for (const frame of attacker.frames().filter((f) => f !== attacker.mainFrame())) {
        const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
        assert.doesNotMatch(text, /device|Approve|Waiting/, 'the device rendered inside a foreign frame');
      }
      assert.ok(
        messages.some((m) => /frame-ancestors 'none'.*blocked|Refused to (frame|display)/.test(m)),
        `Chromium reported no refusal:\n${messages.join('\n')}`,
      );
    } finally {
      await attacker.close();
      attackerSite.close();
    }
  });
});
