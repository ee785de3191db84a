import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalError, bindingMessage, createApprover } from './ciba.ts';
import {
  ALICE,
  captureLogs,
  createSigner,
  fakeKeycloak,
  startFakeServer,
  userClaims,
  type FakeReply,
  type Signer,
} from '../testing.ts';
import { DownstreamError } from '../errors.ts';
import { TOOLS_BY_NAME, toolError, type ToolContext } from '../mcp/tools.ts';
import { createLogger } from '../log.ts';
import type { Principal } from '../auth/verify.ts';
import type { StockCall } from '../downstream/stock-api.ts';

describe('bindingMessage', () => {
  it("fits the order summary into Keycloak's binding_message rule (^[a-zA-Z0-9-._+/!?#]{1,50}$)", () => {
    const message = bindingMessage('Buy 40 ACME at 142.35 USD, total 5,694.00');
    assert.equal(message, 'Buy-40-ACME-at-142.35-USD-total-5694.00');
    assert.match(message, /^[a-zA-Z0-9-._+/!?#]{1,50}$/);
    // Too long with the price: without it; too long even so: nothing (never a cut-off total).
    assert.equal(
      bindingMessage('Sell 200 INITECH at 123456789 USD, total 24,691,357,800.00'),
      'Sell-200-INITECH-total-24691357800.00',
    );
    assert.equal(
      bindingMessage(`Sell 10000 ${'X'.repeat(10)} at 99999.99 USD, total 999,999,900,000,000,000,000,000.00`),
      undefined,
    );
  });
});

/** The two-step half of the Approver, for tests of the one-step path. */
const unused = {
  start: () => Promise.reject(new Error('not used here')),
  wait: () => Promise.reject(new Error('not used here')),
};

describe('place_order above the approval threshold', () => {
  const principal = {
    sub: 'alice-sub',
    username: 'alice',
    tokenHash: 'user-hash',
    tokenSha256: 'user-sha',
  } as Principal;
  const approvalNeeded = new DownstreamError('approval_required', 'The stock API answered 403 approval_required: …', {
    status: 403,
    approval: { summary: 'Buy 40 ACME at 142.35 USD, total 5,694.00', total: 5694, thresholdUsd: 5000 },
  });
  const order = { id: 'ord_1', status: 'filled', symbol: 'ACME', side: 'buy', quantity: 40, approvedBy: 'ciba' };
  const run = (ctx: Partial<ToolContext>, calls: StockCall[]) =>
    TOOLS_BY_NAME.get('place_order')?.run({ symbol: 'ACME', side: 'buy', quantity: 40 } as never, {
      principal,
      subjectToken: 'user-token',
      logger: createLogger('silent'),
      requestId: 'r1',
      now: () => new Date(),
      stock: {
        call: async (call) => {
          calls.push(call);
          if (calls.length === 1) throw approvalNeeded;
          return { data: order, exchange: { accessToken: 'x', cache: 'miss', exchangeMs: 1 } } as never;
        },
      },
      ...ctx,
    });

  it("asks the user's approval, then places the order with the approval's token only (never the cached user exchange)", async () => {
    const calls: StockCall[] = [];
    const asked: string[] = [];
    const result = await run(
      {
        approver: {
          ...unused,
          approve: async ({ summary }) => {
            asked.push(summary);
            return { accessToken: 'ciba-token', tokenHash: 'ciba-hash', tokenSha256: 'ciba-sha', waitedMs: 2100 };
          },
        },
      },
      calls,
    );
    assert.deepEqual(asked, ['Buy 40 ACME at 142.35 USD, total 5,694.00']);
    assert.equal(calls[0]?.subjectToken, 'user-token');
    assert.equal(calls[0]?.scope, 'trade:write');
    assert.equal(calls[1]?.subjectToken, 'ciba-token');
    assert.equal(calls[1]?.scope, 'trade:write trade:approved');
    assert.equal(calls[1]?.principal.tokenSha256, 'ciba-sha', 'the exchange cache must be keyed on the approval token');
    assert.match(result?.content[0]?.text ?? '', /filled \(approved on alice's device after 2 s\)/);
  });

  it('turns a denial into a tool error that says no order was placed, and places nothing', async () => {
    const calls: StockCall[] = [];
    const denied = new ApprovalError(
      'approval_denied',
      'alice denied "Buy 40 ACME…" on their device. No order was placed.',
    );
    await assert.rejects(
      run({ approver: { ...unused, approve: async () => Promise.reject(denied) } }, calls) as Promise<unknown>,
      (error: unknown) => error === denied,
    );
    assert.equal(calls.length, 1);
    const result = toolError(denied);
    assert.equal(result?.isError, true);
    assert.deepEqual(result?.structuredContent, { error: 'approval_denied', message: denied.message });
  });

  it("without an approver, the stock API's refusal stands", async () => {
    await assert.rejects(run({}, []) as Promise<unknown>, (error: unknown) => error === approvalNeeded);
  });
});

describe('place_order above the threshold, for a client that takes URL elicitation (2026-07-28 round trip)', () => {
  const principal = { sub: 'alice-sub', username: 'alice', tokenHash: 'h', tokenSha256: 's' } as Principal;
  const summary = 'Buy 40 ACME at 142.35 USD, total 5,694.00';
  const pendingApproval = { authReqId: 'req-1', expiresIn: 120, summary, sub: 'alice-sub', startedAt: 0 };
  const refusal = (s = summary) =>
    new DownstreamError('approval_required', 'approval required', {
      status: 403,
      approval: { summary: s, total: 5694, thresholdUsd: 5000 },
    });
  function run(options: { pending?: typeof pendingApproval; answer?: unknown; summary?: string }) {
    const events: string[] = [];
    const ctx = {
      principal,
      subjectToken: 'user-token',
      logger: createLogger('silent'),
      requestId: 'r',
      now: () => new Date(),
      stock: {
        call: async (call: StockCall) => {
          if (call.subjectToken === 'user-token') throw refusal(options.summary);
          events.push(`order with ${call.subjectToken}`);
          return { data: { id: 'ord_1', status: 'filled', symbol: 'ACME', side: 'buy', quantity: 40 } } as never;
        },
      },
      approver: {
        start: async () => (events.push('start'), pendingApproval),
        wait: async () => (events.push('wait'), { accessToken: 'ciba', tokenHash: 'c', tokenSha256: 'c', waitedMs: 1 }),
        approve: async () => Promise.reject(new Error('the one-step path must not run')),
      },
      elicitation: {
        deviceUrl: 'http://localhost:4100/users/alice',
        pending: () => options.pending,
        answer: options.answer,
        mint: async () => 'signed-state',
      },
    } as unknown as ToolContext;
    const result = TOOLS_BY_NAME.get('place_order')?.run({ symbol: 'ACME', side: 'buy', quantity: 40 } as never, ctx);
    return { result: result as Promise<Record<string, unknown>>, events };
  }

  it('first round: starts the request and answers input_required with the device URL and signed state', async () => {
    const { result, events } = run({});
    const answer = await result;
    assert.deepEqual(events, ['start']);
    assert.equal(answer.resultType, 'input_required');
    assert.equal(answer.requestState, 'signed-state');
    const request = (answer.inputRequests as Record<string, { params: Record<string, string> }>).approve;
    assert.equal(request?.params.mode, 'url');
    assert.equal(request?.params.url, 'http://localhost:4100/users/alice');
    assert.match(request?.params.message ?? '', /Approve "Buy 40 ACME/);
  });

  it('retry after "accept": waits for the decision and places the order with the approval token only', async () => {
    const { result, events } = run({ pending: pendingApproval, answer: { action: 'accept' } });
    await result;
    assert.deepEqual(events, ['wait', 'order with ciba']);
  });

  it('retry after "decline", or for another order than the one sent for approval: no order', async () => {
    const declined = run({ pending: pendingApproval, answer: { action: 'decline' } });
    await assert.rejects(declined.result, (e: unknown) => e instanceof ApprovalError && e.code === 'approval_denied');
    const changed = run({ pending: pendingApproval, answer: { action: 'accept' }, summary: 'Buy 90 ACME …' });
    await assert.rejects(changed.result, (e: unknown) => e instanceof ApprovalError && /order changed/.test(e.message));
    assert.deepEqual([...declined.events, ...changed.events], []);
  });
});

describe('createApprover().wait (against a fake realm token endpoint)', () => {
  const alice = { sub: ALICE, username: 'alice', tokenHash: 'h', tokenSha256: 's' } as Principal;
  const pendingFor = (sub: string) => ({
    authReqId: 'req-1',
    expiresIn: 120,
    interval: 1,
    summary: 'Buy 40 ACME at 142.35 USD, total 5,694.00',
    sub,
    startedAt: Date.now(),
  });
  /** A realm token endpoint whose CIBA poll answers with a token for `sub` (or with `reply`). */
  async function setup(reply: (signer: Signer) => Promise<FakeReply> | FakeReply) {
    const signer = await createSigner();
    const endpoint = await startFakeServer(() => reply(signer));
    const { logger, lines } = captureLogs();
    const approver = createApprover({ keycloak: fakeKeycloak(signer.keys, endpoint.url), timeoutMs: 5000, logger });
    return { approver, endpoint, lines };
  }
  const tokenFor = async (signer: Signer, sub: string): Promise<FakeReply> => ({
    json: {
      access_token: await signer.sign(userClaims({ sub, scope: 'openid trade:write trade:approved' })),
      token_type: 'Bearer',
      expires_in: 300,
    },
  });

  it("returns the approval when Keycloak's token names the same user", async () => {
    const { approver, endpoint } = await setup((signer) => tokenFor(signer, ALICE));
    try {
      const approval = await approver.wait({ principal: alice, pending: pendingFor(ALICE) });
      assert.match(approval.accessToken, /^ey/);
      assert.equal(endpoint.requests.length, 1);
      assert.match(endpoint.requests[0]?.body ?? '', /grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba/);
    } finally {
      await endpoint.close();
    }
  });

  it("refuses to wait on another user's request, without polling Keycloak", async () => {
    const { approver, endpoint } = await setup((signer) => tokenFor(signer, ALICE));
    try {
      await assert.rejects(
        approver.wait({ principal: alice, pending: pendingFor('bob-sub') }),
        (e: unknown) => e instanceof ApprovalError && e.code === 'approval_failed' && /another user/.test(e.message),
      );
      assert.equal(endpoint.requests.length, 0);
    } finally {
      await endpoint.close();
    }
  });

  it('refuses an approval token Keycloak issued for another user', async () => {
    const { approver, endpoint } = await setup((signer) => tokenFor(signer, 'bob-sub'));
    try {
      await assert.rejects(
        approver.wait({ principal: alice, pending: pendingFor(ALICE) }),
        (e: unknown) => e instanceof ApprovalError && e.code === 'approval_failed' && /another user/.test(e.message),
      );
    } finally {
      await endpoint.close();
    }
  });

  it('stops waiting when the client goes away, and logs at info that the request is left to expire', async () => {
    const { approver, endpoint, lines } = await setup(() => ({
      status: 400,
      json: { error: 'authorization_pending', error_description: 'The authorization request is still pending' },
    }));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      await assert.rejects(
        approver.wait({ principal: alice, pending: pendingFor(ALICE), signal: controller.signal }),
        (e: unknown) => e instanceof ApprovalError && e.code === 'client_gone' && /No order was placed/.test(e.message),
      );
      const logged = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
      assert.ok(
        logged.some((l) => l.level === 'info' && /approval abandoned: the client went away/.test(l.msg)),
        lines.join('\n'),
      );
    } finally {
      await endpoint.close();
    }
  });
});

describe('place_order for a client that went away', () => {
  const principal = { sub: 'alice-sub', username: 'alice', tokenHash: 'h', tokenSha256: 's' } as Principal;
  const refusal = new DownstreamError('approval_required', 'approval required', {
    status: 403,
    approval: { summary: 'Buy 40 ACME at 142.35 USD, total 5,694.00', total: 5694, thresholdUsd: 5000 },
  });

  it('places nothing when the approval arrives after the client has gone', async () => {
    const controller = new AbortController();
    const orders: string[] = [];
    const ctx = {
      principal,
      subjectToken: 'user-token',
      logger: createLogger('silent'),
      requestId: 'r',
      now: () => new Date(),
      signal: controller.signal,
      stock: {
        call: async (call: StockCall) => {
          if (call.subjectToken === 'user-token') throw refusal;
          orders.push(call.subjectToken);
          return { data: { id: 'ord_1', status: 'filled' } } as never;
        },
      },
      approver: {
        ...unused,
        // The user approves just as the client disconnects: the approval comes back, the client is gone.
        approve: async () => {
          controller.abort();
          return { accessToken: 'ciba', tokenHash: 'c', tokenSha256: 'c', waitedMs: 1 };
        },
      },
    } as unknown as ToolContext;
    await assert.rejects(
      TOOLS_BY_NAME.get('place_order')?.run({ symbol: 'ACME', side: 'buy', quantity: 40 } as never, ctx) ??
        Promise.resolve(),
      (e: unknown) => e instanceof ApprovalError && e.code === 'client_gone',
    );
    assert.deepEqual(orders, []);
  });
});
