// Per-user portfolios and orders, keyed by token `sub`, kept in memory.
// A new user's portfolio is seeded from a hash of their sub: same sub, same holdings.
import { randomUUID } from 'node:crypto';
import { getQuote, SYMBOLS } from './data.ts';
import { ApiError } from './errors.ts';

export type Holding = { symbol: string; quantity: number; averagePrice: number };
export type Order = Readonly<{
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  limitPrice: number | null;
  /** "filled" executes now at the quote price; "accepted" rests (limit not reached) and moves nothing. */
  status: 'filled' | 'accepted';
  filledPrice: number | null;
  /** "ciba" when the user approved this order on their device (the token carried scope trade:approved), else null. */
  approvedBy: 'ciba' | null;
  timestamp: string;
}>;
export type OrderRequest = { symbol: string; side: 'buy' | 'sell'; quantity: number; limit_price?: number | undefined };

export type PortfolioView = {
  owner: { sub: string; username: string | null };
  holdings: Array<{ symbol: string; quantity: number; averagePrice: number; marketValue: number }>;
  cash: number;
  totalValue: number;
};

type Account = { cash: number; holdings: Map<string, Holding>; orders: Order[] };

export type Accounts = {
  portfolio(sub: string, username?: string): PortfolioView;
  orders(sub: string): readonly Order[];
  /** `approved`: the token carries `trade:approved`, which only a CIBA approval yields. */
  placeOrder(sub: string, request: OrderRequest, approved?: boolean): Order;
};

const round2 = (n: number) => Math.round(n * 100) / 100;

/** FNV-1a 32-bit. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** mulberry32: small deterministic PRNG in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The deterministic starting account for a sub: 3–5 holdings and some cash. */
export function seedAccount(sub: string): Account {
  const random = prng(hash32(sub));
  const pool = [...SYMBOLS];
  const count = 3 + Math.floor(random() * 3);
  const holdings = new Map<string, Holding>();
  for (let i = 0; i < count; i++) {
    const [symbol] = pool.splice(Math.floor(random() * pool.length), 1);
    const quote = symbol === undefined ? undefined : getQuote(symbol);
    if (!quote) continue;
    const quantity = 1 + Math.floor(random() * 200);
    holdings.set(quote.symbol, {
      symbol: quote.symbol,
      quantity,
      averagePrice: round2(quote.price * (0.7 + random() * 0.5)),
    });
  }
  return { cash: 10_000 + Math.floor(random() * 400) * 100, holdings, orders: [] };
}

export type AccountsOptions = {
  now?: () => Date;
  newId?: () => string;
  /** Orders that can move more than this (see orderValuePrice) need the user's approval (default 5000). */
  approvalThresholdUsd?: number;
};

export const DEFAULT_APPROVAL_THRESHOLD_USD = 5000;

/** In-memory accounts: each user is seeded with cash and holdings on first sight (keyed by `sub`). */
export function createAccounts(options: AccountsOptions = {}): Accounts {
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? (() => `ord_${randomUUID()}`);
  const approvalThresholdUsd = options.approvalThresholdUsd ?? DEFAULT_APPROVAL_THRESHOLD_USD;
  const accounts = new Map<string, Account>();
  const accountFor = (sub: string): Account => {
    let account = accounts.get(sub);
    if (!account) {
      account = seedAccount(sub);
      accounts.set(sub, account);
    }
    return account;
  };

  return {
    portfolio(sub, username) {
      const account = accountFor(sub);
      const holdings = [...account.holdings.values()]
        .sort((a, b) => a.symbol.localeCompare(b.symbol))
        .map((h) => ({ ...h, marketValue: round2(h.quantity * (getQuote(h.symbol)?.price ?? 0)) }));
      const invested = holdings.reduce((sum, h) => sum + h.marketValue, 0);
      return {
        owner: { sub, username: username ?? null },
        holdings,
        cash: round2(account.cash),
        totalValue: round2(account.cash + invested),
      };
    },

    orders: (sub) => [...accountFor(sub).orders],

    placeOrder(sub, request, approved = false) {
      const quote = getQuote(request.symbol);
      if (!quote) throw new ApiError('unknown_symbol', `Unknown symbol "${request.symbol}".`);
      const price = orderValuePrice(request.side, quote.price, request.limit_price);
      const total = round2(request.quantity * price);
      // An order the account cannot cover is refused before anyone is asked to approve it.
      checkCovered(accountFor(sub), quote.symbol, request.side, request.quantity, price);
      if (total > approvalThresholdUsd && !approved) {
        const summary = `${request.side === 'buy' ? 'Buy' : 'Sell'} ${request.quantity} ${quote.symbol} at ${Number.isInteger(price * 100) ? price.toFixed(2) : String(price)} USD, total ${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
        throw new ApiError(
          'approval_required',
          `${summary} is above ${approvalThresholdUsd} USD: it needs the user's approval on their device (a token with scope trade:approved, obtained by CIBA).`,
          {
            approval: {
              symbol: quote.symbol,
              side: request.side,
              quantity: request.quantity,
              price,
              total,
              thresholdUsd: approvalThresholdUsd,
              summary,
            },
          },
        );
      }
      const account = accountFor(sub);
      const limit = request.limit_price;
      const marketable = limit === undefined || (request.side === 'buy' ? limit >= quote.price : limit <= quote.price);
      if (marketable) execute(account, quote.symbol, request.side, request.quantity, quote.price);
      const order: Order = Object.freeze({
        id: newId(),
        symbol: quote.symbol,
        side: request.side,
        quantity: request.quantity,
        limitPrice: limit ?? null,
        status: marketable ? 'filled' : 'accepted',
        filledPrice: marketable ? quote.price : null,
        approvedBy: approved ? 'ciba' : null,
        timestamp: now().toISOString(),
      });
      account.orders.push(order);
      return order;
    },
  };
}

/**
 * The price that decides whether an order needs approval: the most per share it can move, whatever limit it names.
 * A buy fills at the quote when its limit is at or above it (so at most the limit), else rests at its limit; a sell
 * fills at the quote when its limit is at or below it (a sell limited at 0.01 still moves the quote), else rests at
 * its limit. Valuing a marketable sell at its limit let 32 MASSD limited at 0.01 (0.32 USD) fill for 5,084.80 USD
 * without approval.
 */
export function orderValuePrice(side: 'buy' | 'sell', quote: number, limit: number | undefined): number {
  if (limit === undefined) return quote;
  return side === 'buy' ? limit : Math.max(limit, quote);
}

/** Throws insufficient_funds / insufficient_holdings when the account cannot cover the order. */
function checkCovered(account: Account, symbol: string, side: 'buy' | 'sell', quantity: number, price: number): void {
  const cost = round2(quantity * price);
  const held = account.holdings.get(symbol);
  if (side === 'buy' && cost > account.cash)
    throw new ApiError(
      'insufficient_funds',
      `Buying ${quantity} ${symbol} costs ${cost} USD; available cash is ${round2(account.cash)} USD.`,
    );
  if (side === 'sell' && (!held || held.quantity < quantity))
    throw new ApiError('insufficient_holdings', `Cannot sell ${quantity} ${symbol}; you hold ${held?.quantity ?? 0}.`);
}

function execute(account: Account, symbol: string, side: 'buy' | 'sell', quantity: number, price: number): void {
  checkCovered(account, symbol, side, quantity, price);
  const cost = round2(quantity * price);
  const held = account.holdings.get(symbol);
  if (side === 'buy') {
    account.cash = round2(account.cash - cost);
    const quantityAfter = (held?.quantity ?? 0) + quantity;
    const averagePrice = round2(((held?.quantity ?? 0) * (held?.averagePrice ?? 0) + cost) / quantityAfter);
    account.holdings.set(symbol, { symbol, quantity: quantityAfter, averagePrice });
    return;
  }
  if (!held) return; // checkCovered made sure it is held
  account.cash = round2(account.cash + cost);
  if (held.quantity === quantity) account.holdings.delete(symbol);
  else account.holdings.set(symbol, { ...held, quantity: held.quantity - quantity });
}
