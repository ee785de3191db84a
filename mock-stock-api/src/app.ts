// Wires the stock API: public health and sandbox routes, then exchanged-token-only routes.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { JWTVerifyGetKey } from 'jose';
import { createAccounts } from './accounts.ts';
import type { Accounts } from './accounts.ts';
import type { Config } from './config.ts';
import { getQuote, searchQuotes } from './data.ts';
import { ApiError, errorResponse } from './errors.ts';
import { requestLogger } from './log.ts';
import type { LogWriter } from './log.ts';
import { requireExchangedToken, requireScope } from './middleware.ts';
import type { AuthEnv } from './middleware.ts';
import { parseOrderRequest } from './orders.ts';
import { createDecisionLog } from './received.ts';
import { createFingerprintLog } from './fingerprints.ts';
import type { FingerprintLog } from './fingerprints.ts';
import type { DecisionLog } from './received.ts';

export type CreateAppOptions = {
  config: Pick<Config, 'ISSUER_URL' | 'AUDIENCE' | 'EXCHANGE_CLIENT_ID'> &
    Partial<Pick<Config, 'APPROVAL_THRESHOLD_USD'>>;
  /** createRemoteJWKSet(new URL(config.JWKS_URL)) in production; createLocalJWKSet in tests. */
  keys: JWTVerifyGetKey;
  /** Receives one entry per request; defaults to discarding. */
  log?: LogWriter;
  /** Clock override (token expiry, timestamps). */
  now?: () => Date;
  accounts?: Accounts;
  decisions?: DecisionLog;
  fingerprints?: FingerprintLog;
};

const MAX_QUERY_LENGTH = 64;
const MAX_ORDER_BODY_BYTES = 4 * 1024;

/**
 * The mock stock API as a Hono app: every route requires a token obtained by RFC 8693 exchange for its audience.
 *
 *   const app = createApp({ config, keys: createRemoteJWKSet(new URL(config.JWKS_URL)) });
 */
export function createApp(options: CreateAppOptions): Hono<AuthEnv> {
  const { config, keys } = options;
  const now = options.now ?? (() => new Date());
  const accounts = options.accounts ?? createAccounts({ now, approvalThresholdUsd: config.APPROVAL_THRESHOLD_USD });
  const decisions = options.decisions ?? createDecisionLog(2000);
  const fingerprints = options.fingerprints ?? createFingerprintLog(1000, now);
  const app = new Hono<AuthEnv>();

  app.use(requestLogger(options.log ?? (() => {})));
  app.use(fingerprints.middleware);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/_sandbox/received', (c) => {
    const list = decisions.list();
    return c.json({ count: list.length, decisions: list }, 200, { 'cache-control': 'no-store' });
  });
  // Read-only: SHA-256 fingerprints of the bearer tokens received (never the tokens), for check-server.
  app.get('/audit/token-fingerprints', (c) => {
    const list = fingerprints.list();
    return c.json({ count: list.length, fingerprints: list }, 200, { 'cache-control': 'no-store' });
  });

  const auth = requireExchangedToken({
    keys,
    issuer: config.ISSUER_URL,
    audience: config.AUDIENCE,
    exchangeClientId: config.EXCHANGE_CLIENT_ID,
    onDecision: (d) => decisions.record(d),
    now,
  });
  const claimsOf = (c: { get(key: 'claims'): AuthEnv['Variables']['claims'] }) => {
    const claims = c.get('claims');
    if (!claims) throw new Error('route reached without verified claims');
    return claims;
  };

  app.get('/stocks', auth, requireScope('trade:read'), (c) => {
    const q = c.req.query('q')?.trim();
    if (!q) throw new ApiError('invalid_request', 'Query parameter "q" is required, e.g. GET /stocks?q=acme.');
    if (q.length > MAX_QUERY_LENGTH) {
      throw new ApiError('invalid_request', `Query parameter "q" must be at most ${MAX_QUERY_LENGTH} characters.`);
    }
    return c.json({ query: q, results: searchQuotes(q) });
  });

  app.get('/stocks/:symbol', auth, requireScope('trade:read'), (c) => {
    const symbol = c.req.param('symbol');
    const quote = getQuote(symbol);
    if (!quote) {
      throw new ApiError(
        'unknown_symbol',
        `Unknown symbol "${symbol.slice(0, 20)}". Search by symbol or company name with GET /stocks?q=<text>.`,
      );
    }
    return c.json(quote);
  });

  app.get('/portfolio', auth, requireScope('portfolio:read'), (c) => {
    const claims = claimsOf(c);
    return c.json(accounts.portfolio(claims.sub, claims.username));
  });

  app.get('/orders', auth, requireScope('trade:read'), (c) => c.json({ orders: accounts.orders(claimsOf(c).sub) }));

  app.post(
    '/orders',
    auth,
    requireScope('trade:write'),
    bodyLimit({
      maxSize: MAX_ORDER_BODY_BYTES,
      onError: () =>
        errorResponse(new ApiError('payload_too_large', `Order body must be at most ${MAX_ORDER_BODY_BYTES} bytes.`)),
    }),
    async (c) => {
      const claims = claimsOf(c);
      // trade:approved reaches a token only through the MCP server's CIBA request (keycloak/README.md, "CIBA").
      const order = accounts.placeOrder(
        claims.sub,
        parseOrderRequest(await c.req.text()),
        claims.scopes.includes('trade:approved'),
      );
      return c.json(order, 201);
    },
  );

  app.notFound(() =>
    errorResponse(new ApiError('not_found', 'No such route. See GET /healthz, /stocks, /portfolio, /orders.')),
  );
  app.onError((err) => errorResponse(err));
  return app;
}
