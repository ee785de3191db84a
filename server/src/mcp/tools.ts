// The tools: input schemas (zod, built once at module load), the scopes each needs, and what each does.
import { z } from 'zod';
import type { Principal } from '../auth/verify.ts';
import type { StockApi } from '../downstream/stock-api.ts';
import { inputRequired } from '@modelcontextprotocol/server';
import { ApprovalError, clientGone, type Approver, type PendingApproval } from '../approval/ciba.ts';
import { DownstreamError, ExchangeError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface ToolContext {
  principal: Principal;
  subjectToken: string;
  stock: StockApi;
  logger: Logger;
  requestId: string;
  now: () => Date;
  /** Asks the user to approve a large order on their device (CIBA); absent where approvals are not configured. */
  approver?: Approver;
  /** Sends a progress notification, when the client asked for progress (a progressToken) and the path can stream. */
  reportProgress?: (message: string) => Promise<void>;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /**
   * 2026-07-28 clients that take URL elicitation: place_order answers with an input-required result pointing the user
   * at their device page, and picks the approval up on the retry (multi-round trip; state signed and bound to the user).
   */
  elicitation?: {
    /** The user's approval device page. */
    deviceUrl: string;
    /** The verified state of the earlier round, if this is a retry. */
    pending(): PendingApproval | undefined;
    /** What the client answered to the elicitation (`{ action: 'accept' | 'decline' | 'cancel' }`). */
    answer: unknown;
    mint(pending: PendingApproval): Promise<string>;
  };
}

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface ToolDefinition<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  requiredScopes: readonly string[];
  /**
   * Whether a machine principal (a machine client's client_credentials token, no user) may call it: market data and
   * the informational tools yes; a user's portfolio or orders no, since there is no user to own or approve them.
   */
  machine: boolean;
  inputSchema: S;
  readOnly: boolean;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
}

function define<S extends z.ZodObject>(tool: ToolDefinition<S>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

const ok = (text: string, structured: Record<string, unknown>): ToolResult => ({
  content: [{ type: 'text', text }],
  structuredContent: structured,
});

/** Downstream and exchange failures become tool errors the model can act on; anything else is a bug and is rethrown. */
export function toolError(error: unknown): ToolResult | undefined {
  if (error instanceof ExchangeError) {
    return {
      isError: true,
      content: [{ type: 'text', text: `${error.message} What to do: ${error.fix}` }],
      structuredContent: { error: error.code, message: error.message, fix: error.fix },
    };
  }
  if (error instanceof ApprovalError) {
    return {
      isError: true,
      content: [{ type: 'text', text: error.message }],
      structuredContent: { error: error.code, message: error.message },
    };
  }
  if (error instanceof DownstreamError) {
    return {
      isError: true,
      content: [{ type: 'text', text: error.message }],
      structuredContent: { error: error.code, message: error.message },
    };
  }
  return undefined;
}

// Starts with a letter: "." and ".." would otherwise be path segments in /stocks/<symbol> (→ /stocks/ or /).
const symbol = z
  .string()
  .trim()
  .min(1)
  .max(12)
  .regex(/^[A-Za-z][A-Za-z.]*$/, 'a ticker symbol: a letter, then letters and dots')
  .transform((s) => s.toUpperCase());

interface Quote {
  symbol: string;
  name: string;
  price: number;
  currency: string;
  change?: number;
  changePercent?: number;
  sector?: string;
}
interface Holding {
  symbol: string;
  quantity: number;
  averagePrice?: number;
  marketValue?: number;
}
interface Portfolio {
  owner?: { sub?: string; username?: string };
  holdings: Holding[];
  cash?: number;
  totalValue?: number;
}

const money = (n: number | undefined) => (typeof n === 'number' ? n.toFixed(2) : '?');

export const TOOLS: readonly ToolDefinition[] = [
  define({
    name: 'get_stock_info',
    machine: true,
    title: 'Stock quote',
    readOnly: true,
    requiredScopes: ['trade:read'],
    description: 'Current quote and facts for one ticker symbol (fictional market). Requires scope trade:read.',
    inputSchema: z.object({ symbol: symbol.describe('Ticker symbol, e.g. ACME') }),
    async run({ symbol: sym }, ctx) {
      const { data } = await ctx.stock.call<Quote>({
        principal: ctx.principal,
        subjectToken: ctx.subjectToken,
        scope: 'trade:read',
        path: `/stocks/${encodeURIComponent(sym)}`,
      });
      return ok(
        `${data.symbol} (${data.name}): ${money(data.price)} ${data.currency}${typeof data.changePercent === 'number' ? `, ${data.changePercent >= 0 ? '+' : ''}${data.changePercent.toFixed(2)}% today` : ''}`,
        { quote: data },
      );
    },
  }),
  define({
    name: 'search_stocks',
    machine: true,
    title: 'Search stocks',
    readOnly: true,
    requiredScopes: ['trade:read'],
    description: 'Find ticker symbols by symbol or company name. Requires scope trade:read.',
    inputSchema: z.object({ query: z.string().trim().min(1).max(64).describe('Part of a symbol or company name') }),
    async run({ query }, ctx) {
      const { data } = await ctx.stock.call<{ results: Quote[] }>({
        principal: ctx.principal,
        subjectToken: ctx.subjectToken,
        scope: 'trade:read',
        path: `/stocks?q=${encodeURIComponent(query)}`,
      });
      const results = data.results ?? [];
      const text = results.length
        ? results.map((q) => `${q.symbol} ${q.name} ${money(q.price)} ${q.currency}`).join('\n')
        : `No stocks match "${query}".`;
      return ok(text, { results });
    },
  }),
  define({
    name: 'get_portfolio',
    machine: false,
    title: 'My portfolio',
    readOnly: true,
    requiredScopes: ['portfolio:read'],
    description: "The signed-in user's holdings and cash. Requires scope portfolio:read.",
    inputSchema: z.object({}),
    async run(_args, ctx) {
      const { data } = await ctx.stock.call<Portfolio>({
        principal: ctx.principal,
        subjectToken: ctx.subjectToken,
        scope: 'portfolio:read',
        path: '/portfolio',
      });
      const lines = data.holdings.map(
        (h) =>
          `${h.symbol}: ${h.quantity} shares${h.marketValue !== undefined ? ` worth ${money(h.marketValue)}` : ''}`,
      );
      return ok(
        `Portfolio of ${data.owner?.username ?? ctx.principal.username ?? ctx.principal.sub}:\n${lines.join('\n')}\nCash ${money(data.cash)}, total ${money(data.totalValue)}`,
        { portfolio: data },
      );
    },
  }),
  define({
    name: 'place_order',
    machine: false,
    title: 'Place an order',
    readOnly: false,
    requiredScopes: ['trade:write'],
    description:
      'Buy or sell shares for the signed-in user (fictional money). Requires scope trade:write, which only users with the trader role can get.',
    inputSchema: z.object({
      symbol: symbol.describe('Ticker symbol'),
      side: z.enum(['buy', 'sell']).describe('buy or sell'),
      quantity: z.number().int().positive().max(10_000).describe('Number of shares (1-10000)'),
      limit_price: z.number().positive().optional().describe('Optional limit price in USD'),
    }),
    async run(args, ctx) {
      type Order = {
        id: string;
        status: string;
        symbol: string;
        side: string;
        quantity: number;
        approvedBy: string | null;
      };
      const order = { method: 'POST' as const, path: '/orders', body: args };
      const describeOrder = `${args.side} ${args.quantity} ${args.symbol}`;
      /** No order is sent for a client that has gone: it could never learn the outcome (checked before each POST). */
      const stillWanted = () => {
        if (!ctx.signal?.aborted) return;
        ctx.logger.log('info', 'order not placed: the client went away', {
          requestId: ctx.requestId,
          sub: ctx.principal.sub,
        });
        throw clientGone(describeOrder);
      };
      let placed: Order;
      stillWanted();
      try {
        ({ data: placed } = await ctx.stock.call<Order>({
          principal: ctx.principal,
          subjectToken: ctx.subjectToken,
          scope: 'trade:write',
          ...order,
        }));
      } catch (error) {
        // Above the stock API's threshold: the user approves on their device (CIBA), and only the token that
        // approval yields (scope trade:approved) is exchanged for this order. No approver: the refusal stands.
        if (!(error instanceof DownstreamError) || !error.approval || !ctx.approver) throw error;
        const { summary } = error.approval;
        const who = ctx.principal.username ?? 'the user';
        const waiting = {
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(ctx.reportProgress
            ? {
                onWaiting: (seconds: number) =>
                  ctx.reportProgress?.(
                    `Waiting ${seconds} s for ${who} to approve "${summary}" on their device (${ctx.principal.username ? `/users/${ctx.principal.username}` : 'the approval device'}).`,
                  ),
              }
            : {}),
        };
        const elicitation = ctx.elicitation;
        const pending = elicitation?.pending();
        if (elicitation && !pending) {
          // First round: the request goes to the device, and the client shows the user where to decide.
          const started = await ctx.approver.start({ principal: ctx.principal, summary });
          return inputRequired({
            inputRequests: {
              approve: inputRequired.elicitUrl({
                message: `Approve "${summary}" on your device, then come back here.`,
                url: elicitation.deviceUrl,
              }),
            },
            requestState: await elicitation.mint(started),
          }) as unknown as ToolResult;
        }
        if (pending && pending.summary !== summary)
          throw new ApprovalError(
            'approval_failed',
            `The order changed since it was sent for approval ("${pending.summary}", now "${summary}"). No order was placed; place it again.`,
          );
        if (elicitation && pending) {
          const action = (elicitation.answer as { action?: string } | undefined)?.action;
          if (action !== 'accept')
            throw new ApprovalError(
              'approval_denied',
              `${who} did not continue ("${action ?? 'no answer'}") when asked to approve "${summary}". No order was placed.`,
            );
        }
        const approval = pending
          ? await ctx.approver.wait({ principal: ctx.principal, pending, ...waiting })
          : await ctx.approver.approve({ principal: ctx.principal, summary, ...waiting });
        stillWanted();
        ({ data: placed } = await ctx.stock.call<Order>({
          principal: { ...ctx.principal, tokenHash: approval.tokenHash, tokenSha256: approval.tokenSha256 },
          subjectToken: approval.accessToken,
          scope: 'trade:write trade:approved',
          ...order,
        }));
        return ok(
          `Order ${placed.id}: ${placed.side} ${placed.quantity} ${placed.symbol} — ${placed.status} (approved on ${ctx.principal.username ?? 'the user'}'s device after ${Math.round(approval.waitedMs / 1000)} s)`,
          { order: placed },
        );
      }
      return ok(`Order ${placed.id}: ${placed.side} ${placed.quantity} ${placed.symbol} — ${placed.status}`, {
        order: placed,
      });
    },
  }),
  define({
    name: 'whoami',
    machine: true,
    title: 'Who am I',
    readOnly: true,
    requiredScopes: [],
    description: 'Shows your identity, your token scopes and which tools those scopes open. Any valid token.',
    inputSchema: z.object({}),
    async run(_args, ctx) {
      const { principal } = ctx;
      const tools = TOOLS.map((tool) => ({
        name: tool.name,
        requiredScopes: tool.requiredScopes,
        allowed: tool.requiredScopes.every((s) => principal.scopes.includes(s)) && (!principal.machine || tool.machine),
      }));
      const text = [
        `You are ${principal.username ?? '(no username claim)'} (sub ${principal.sub}) via client ${principal.clientId ?? '?'}.`,
        `Scopes: ${principal.scopes.join(' ') || '(none)'}`,
        ...tools.map(
          (t) =>
            `${t.allowed ? 'open  ' : 'locked'} ${t.name}${t.requiredScopes.length ? ` (needs ${t.requiredScopes.join(' ')})` : ''}`,
        ),
      ].join('\n');
      return ok(text, {
        sub: principal.sub,
        username: principal.username ?? null,
        clientId: principal.clientId ?? null,
        scopes: [...principal.scopes],
        jti: principal.jti ?? null,
        expiresAt: new Date(principal.exp * 1000).toISOString(),
        tools,
      });
    },
  }),
  define({
    name: 'greet',
    machine: true,
    title: 'Greet',
    readOnly: true,
    requiredScopes: [],
    description: 'Says hello to you (or to a name you give). Any valid token.',
    inputSchema: z.object({
      name: z.string().trim().min(1).max(100).optional().describe('Who to greet; defaults to you'),
    }),
    async run({ name }, ctx) {
      const who = name ?? ctx.principal.username ?? 'there';
      return ok(`Hello, ${who}! (signed in as ${ctx.principal.username ?? ctx.principal.sub})`, {
        greeting: `Hello, ${who}!`,
      });
    },
  }),
  define({
    name: 'get_datetime',
    machine: true,
    title: 'Current date and time',
    readOnly: true,
    requiredScopes: [],
    description: "The server's current date and time (UTC, ISO 8601). Any valid token.",
    inputSchema: z.object({}),
    async run(_args, ctx) {
      const now = ctx.now();
      return ok(now.toISOString(), { iso: now.toISOString(), epochMs: now.getTime() });
    },
  }),
];

export const TOOLS_BY_NAME: ReadonlyMap<string, ToolDefinition> = new Map(TOOLS.map((tool) => [tool.name, tool]));
