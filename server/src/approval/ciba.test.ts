import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApprovalError, bindingMessage } from './ciba.ts';
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
      run({ approver: { approve: async () => Promise.reject(denied) } }, calls) as Promise<unknown>,
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
