// Security suite, orders: what an attacker holding a valid trader token tries against the approval of large orders.
// A limit price that makes a large sell look small, and a URL-elicitation requestState re-signed to change the order
// after the user was asked to approve another one. Raw 2026-07-28 requests, so the requestState is in the test's
// hands. The e2e stacks lower the approval threshold (E2E_APPROVAL).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createRequestStateCodec } from '@modelcontextprotocol/server';
import { E2E_APPROVAL, MCP_SERVER_CLIENT } from '@sandbox/stack';
import { ALL_SCOPES, arrives, decideOnDevice, signInOnDevice, summaryOf, type Device } from './harness/approval.ts';
import { launchBrowser } from './harness/browser.ts';
import { userToken } from './harness/keycloak.ts';
import { stack } from './harness/stack.ts';

const VERSION = '2026-07-28';
let nextId = 1;

interface Result {
  isError?: boolean;
  resultType?: string;
  requestState?: string;
  inputRequests?: Record<string, { params?: { url?: string } }>;
  content?: Array<{ text?: string }>;
  structuredContent?: Record<string, unknown>;
}

/** One 2026-07-28 tools/call from a client that takes URL elicitation; extra params (a retry's) merged in. */
async function call(
  token: string,
  name: string,
  args: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ result?: Result; error?: { code: number; message: string } }> {
  const response = await fetch(stack().urls.mcp, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: nextId++,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        ...extra,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': VERSION,
          'io.modelcontextprotocol/clientInfo': { name: 'e2e-attacker', version: '1.0.0' },
          'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } },
        },
      },
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { result?: Result; error?: { code: number; message: string } };
}

interface Portfolio {
  holdings: Array<{ symbol: string; quantity: number; marketValue: number }>;
  cash: number;
}
const portfolioOf = async (token: string) =>
  (await call(token, 'get_portfolio', {})).result?.structuredContent?.portfolio as Portfolio;

/**
 * Earlier suites spend alice's cash (her seeded account differs per realm): sells small lots, each below the approval
 * threshold, until she holds at least `need` USD, so the buys below test approval, not insufficient_funds.
 */
async function raiseCash(token: string, need: number): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const portfolio = (await call(token, 'get_portfolio', {})).result?.structuredContent?.portfolio as Portfolio & {
      holdings: Array<{ symbol: string; quantity: number; marketValue: number }>;
    };
    if (portfolio.cash >= need) return;
    const lot = portfolio.holdings
      .filter((h) => h.symbol !== 'ACME' && h.quantity > 0)
      .map((h) => ({ ...h, price: h.marketValue / h.quantity }))
      .find((h) => h.price < E2E_APPROVAL.thresholdUsd / 2);
    if (!lot) return;
    const quantity = Math.max(1, Math.min(lot.quantity, Math.floor((E2E_APPROVAL.thresholdUsd * 0.9) / lot.price)));
    await call(token, 'place_order', { symbol: lot.symbol, side: 'sell', quantity });
  }
}

describe('security: large orders cannot skip approval', () => {
  let alice: string;
  before(async () => {
    alice = await userToken('alice', ALL_SCOPES);
    await raiseCash(alice, 2500);
  });

  it('a sell limited at 0.01 that would fill at the quote needs approval, and nothing is sold without it', async () => {
    const before = await portfolioOf(alice);
    // A holding worth more than the threshold: at 0.01 a share it "costs" almost nothing, at the quote it does not.
    const big = before.holdings.find(
      (h) => h.marketValue > E2E_APPROVAL.thresholdUsd && h.quantity * 0.01 < E2E_APPROVAL.thresholdUsd,
    );
    assert.ok(big, `alice holds nothing worth over ${E2E_APPROVAL.thresholdUsd} USD: ${JSON.stringify(before)}`);
    const answer = await call(alice, 'place_order', {
      symbol: big.symbol,
      side: 'sell',
      quantity: big.quantity,
      limit_price: 0.01,
    });
    assert.equal(answer.result?.resultType, 'input_required', JSON.stringify(answer));
    assert.match(answer.result?.inputRequests?.approve?.params?.url ?? '', /\/users\/alice$/);
    const after = await portfolioOf(alice);
    assert.equal(after.holdings.find((h) => h.symbol === big.symbol)?.quantity, big.quantity, 'shares were sold');
    assert.equal(after.cash, before.cash);
  });

  it('a buy limited far below the quote rests and moves no money; a buy limited above it is valued at its limit', async () => {
    const before = await portfolioOf(alice);
    const resting = await call(alice, 'place_order', { symbol: 'ACME', side: 'buy', quantity: 50, limit_price: 0.01 });
    const order = resting.result?.structuredContent?.order as { status: string; quantity: number } | undefined;
    assert.equal(order?.status, 'accepted', JSON.stringify(resting));
    assert.equal((await portfolioOf(alice)).cash, before.cash, 'a resting buy moved cash');
    // 8 ACME at the quote is 1,138.80 (above the e2e threshold); limited at 200 it can cost up to 1,600.
    const marketable = await call(alice, 'place_order', { symbol: 'ACME', side: 'buy', quantity: 8, limit_price: 200 });
    assert.equal(marketable.result?.resultType, 'input_required', JSON.stringify(marketable));
  });

  it('a requestState re-signed with the key once derived from the published client secret places nothing', async () => {
    const before = await portfolioOf(alice);
    const first = await call(alice, 'place_order', { symbol: 'ACME', side: 'buy', quantity: 8 });
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    const state = first.result?.requestState ?? '';
    // The payload is readable (signed, not encrypted): the CIBA request alice is being asked to approve.
    const body = JSON.parse(Buffer.from(state.slice(3, state.lastIndexOf('.')), 'base64url').toString()) as {
      p: { authReqId: string; summary: string; sub: string };
    };
    assert.match(body.p.summary, /^Buy 8 ACME/);
    // The attacker re-signs it for a bigger order, as the sandbox's key used to be derivable by anyone.
    const oldKey = createHash('sha256').update(`mcp-request-state:${MCP_SERVER_CLIENT.secret}`).digest('hex');
    const forger = createRequestStateCodec<typeof body.p>({
      key: oldKey,
      ttlSeconds: 300,
      bind: () => `tools/call\0${body.p.sub}`,
    });
    const forged = await forger.mint({ ...body.p, summary: body.p.summary.replace('Buy 8', 'Buy 9') }, {} as never);
    const retry = await call(
      alice,
      'place_order',
      { symbol: 'ACME', side: 'buy', quantity: 9 },
      { inputResponses: { approve: { action: 'accept' } }, requestState: forged },
    );
    assert.ok(retry.error, `the forged state was accepted: ${JSON.stringify(retry)}`);
    assert.match(retry.error.message, /requestState|state/i);
    const after = await portfolioOf(alice);
    assert.equal(after.cash, before.cash, 'an order was placed with a forged state');
  });
});

describe('security: an order awaiting approval dies with its client', () => {
  let browser: Browser;
  let device: Device;
  let alice: string;
  before(async () => {
    browser = await launchBrowser();
    device = await signInOnDevice(browser, 'alice');
    alice = await userToken('alice', ALL_SCOPES);
    await raiseCash(alice, 2500); // the orders below must reach the approval step, not insufficient_funds
  });
  after(async () => {
    await browser?.close();
  });

  /** place_order for `quantity` ACME: 2025-11-25 (the server's fast path) or 2026-07-28 with a progress token (SDK). */
  const placeOrder = (quantity: number, path: 'fast path' | 'SDK path', signal: AbortSignal) => {
    const modern = path === 'SDK path';
    return fetch(stack().urls.mcp, {
      method: 'POST',
      signal,
      headers: {
        authorization: `Bearer ${alice}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': modern ? VERSION : '2025-11-25',
        ...(modern ? { 'mcp-method': 'tools/call', 'mcp-name': 'place_order' } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: {
          name: 'place_order',
          arguments: { symbol: 'ACME', side: 'buy', quantity },
          ...(modern
            ? {
                _meta: {
                  progressToken: `abort-${quantity}`,
                  'io.modelcontextprotocol/protocolVersion': VERSION,
                  'io.modelcontextprotocol/clientInfo': { name: 'e2e-abort', version: '1.0.0' },
                  'io.modelcontextprotocol/clientCapabilities': {},
                },
              }
            : {}),
        },
      }),
    });
  };

  for (const [quantity, path] of [
    [13, 'fast path'],
    [14, 'SDK path'],
  ] as const) {
    it(`places nothing when the client disconnects and alice then approves (${path})`, async () => {
      const held = async () => (await portfolioOf(alice)).holdings.find((h) => h.symbol === 'ACME')?.quantity ?? 0;
      const before = await held();
      const client = new AbortController();
      // The SDK path answers with an SSE stream at once (progress), so the abort may cut the body, not the fetch.
      const call = placeOrder(quantity, path, client.signal)
        .then((response) => response.text())
        .catch((error: Error) => error.name);
      await arrives(device, summaryOf(quantity));
      client.abort(); // the client goes away while the order waits for alice
      assert.equal(await call, 'AbortError');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await decideOnDevice(device, summaryOf(quantity), 'Approve', `abort-${quantity}`);
      // Keycloak would hand the approval out at the next poll (every second); nobody is polling any more.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      assert.equal(await held(), before, 'an order was placed for a client that had gone');
    });
  }
});
