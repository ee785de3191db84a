import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccounts, orderValuePrice, seedAccount } from './accounts.ts';
import { ApiError } from './errors.ts';
import { ALICE, BOB, NOW } from './testing.ts';

describe('seedAccount', () => {
  it('returns the same holdings for the same sub', () => {
    assert.deepEqual(seedAccount(ALICE), seedAccount(ALICE));
  });

  it('returns different holdings for different subs', () => {
    assert.notDeepEqual([...seedAccount(ALICE).holdings.values()], [...seedAccount(BOB).holdings.values()]);
  });

  it('seeds 3 to 5 distinct holdings and positive cash', () => {
    for (let i = 0; i < 50; i++) {
      const account = seedAccount(`user-${i}`);
      assert.ok(account.holdings.size >= 3 && account.holdings.size <= 5);
      assert.ok(account.cash >= 10_000);
      for (const h of account.holdings.values()) assert.ok(h.quantity >= 1 && h.averagePrice > 0);
    }
  });
});

describe('createAccounts', () => {
  const accounts = () => createAccounts({ now: () => NOW, newId: () => 'ord_1' });

  it('values holdings at the quote price and adds cash into totalValue', () => {
    const view = accounts().portfolio(ALICE, 'alice');
    const invested = view.holdings.reduce((sum, h) => sum + h.marketValue, 0);
    assert.equal(view.totalValue, Math.round((view.cash + invested) * 100) / 100);
    assert.deepEqual(view.owner, { sub: ALICE, username: 'alice' });
  });

  it('averages the price on a buy and removes a holding sold in full', () => {
    const store = accounts();
    const vandl = () => store.portfolio(ALICE).holdings.find((h) => h.symbol === 'VANDL');
    const before = vandl() ?? { quantity: 0, averagePrice: 0 };
    store.placeOrder(ALICE, { symbol: 'VANDL', side: 'buy', quantity: 100 });
    const held = vandl()?.quantity ?? 0;
    assert.equal(held, before.quantity + 100);
    const expected = Math.round(((before.quantity * before.averagePrice + 100 * 12.07) / held) * 100) / 100;
    assert.equal(vandl()?.averagePrice, expected);
    store.placeOrder(ALICE, { symbol: 'VANDL', side: 'sell', quantity: held });
    assert.equal(
      store.portfolio(ALICE).holdings.find((h) => h.symbol === 'VANDL'),
      undefined,
    );
  });

  it('refuses an order above the approval threshold without approval, naming it; places it when approved', () => {
    const store = createAccounts({ now: () => NOW, newId: () => 'ord_1', approvalThresholdUsd: 1000 });
    const big = { symbol: 'ACME', side: 'buy' as const, quantity: 10 };
    assert.throws(
      () => store.placeOrder(ALICE, big),
      (err: unknown) =>
        err instanceof ApiError &&
        err.code === 'approval_required' &&
        err.status === 403 &&
        err.approval?.summary === 'Buy 10 ACME at 142.35 USD, total 1,423.50' &&
        err.approval.total === 1423.5 &&
        err.approval.thresholdUsd === 1000,
    );
    assert.equal(store.orders(ALICE).length, 0, 'a refused order must not be recorded');
    assert.equal(store.placeOrder(ALICE, big, true).approvedBy, 'ciba');
    assert.equal(store.placeOrder(ALICE, { ...big, quantity: 7 }).approvedBy, null, '996.45 USD needs no approval');
  });

  it('judges a limit order by its limit price, and refuses an unaffordable order before asking for approval', () => {
    const store = createAccounts({ now: () => NOW, approvalThresholdUsd: 1000 });
    assert.throws(
      () => store.placeOrder(ALICE, { symbol: 'ACME', side: 'buy', quantity: 5, limit_price: 300 }),
      (err: unknown) => err instanceof ApiError && err.approval?.total === 1500,
    );
    assert.throws(
      () => store.placeOrder(ALICE, { symbol: 'WAYNE', side: 'buy', quantity: 10_000 }),
      (err: unknown) => err instanceof ApiError && err.code === 'insufficient_funds',
    );
  });

  it('values a sell limited below the quote at the quote it fills at (the 0.01 limit bypass)', () => {
    const store = createAccounts({ now: () => NOW, approvalThresholdUsd: 1000 });
    for (let i = 0; i < 2; i++) store.placeOrder(ALICE, { symbol: 'MASSD', side: 'buy', quantity: 6 }); // 953.40 each
    const before = store.orders(ALICE).length;
    assert.throws(
      () => store.placeOrder(ALICE, { symbol: 'MASSD', side: 'sell', quantity: 12, limit_price: 0.01 }),
      (err: unknown) => err instanceof ApiError && err.code === 'approval_required' && err.approval?.total === 1906.8,
    );
    assert.equal(store.orders(ALICE).length, before, 'the sell must not fill without approval');
    const filled = store.placeOrder(ALICE, { symbol: 'MASSD', side: 'sell', quantity: 12, limit_price: 0.01 }, true);
    assert.equal(filled.status, 'filled');
    assert.equal(filled.filledPrice, 158.9);
  });

  it('values a resting order at its limit and a marketable buy at no more than its limit', () => {
    assert.equal(orderValuePrice('sell', 100, 0.01), 100, 'a marketable sell moves the quote');
    assert.equal(orderValuePrice('sell', 100, 150), 150, 'a resting sell may fill at its limit');
    assert.equal(orderValuePrice('buy', 100, 150), 150, 'a marketable buy fills at the quote, at most its limit');
    assert.equal(orderValuePrice('buy', 100, 50), 50, 'a resting buy may fill at its limit');
    assert.equal(orderValuePrice('buy', 100, undefined), 100);
    assert.equal(orderValuePrice('sell', 100, undefined), 100);
  });

  it('rejects a buy beyond available cash', () => {
    assert.throws(
      () => accounts().placeOrder(ALICE, { symbol: 'WAYNE', side: 'buy', quantity: 10_000 }),
      (err: unknown) => err instanceof ApiError && err.code === 'insufficient_funds' && err.status === 422,
    );
  });

  it('keeps orders per sub', () => {
    const store = accounts();
    store.placeOrder(ALICE, { symbol: 'ACME', side: 'buy', quantity: 1 });
    assert.equal(store.orders(ALICE).length, 1);
    assert.equal(store.orders(BOB).length, 0);
  });
});
