// The only way tools reach the stock API: with a token exchanged for audience stock-api and exactly the tool's scope.
import { DownstreamError, type OrderApproval } from '../errors.ts';
import type { Exchanger, ExchangeResult } from '../exchange/exchanger.ts';
import type { Metrics } from '../metrics.ts';
import type { Principal } from '../auth/verify.ts';
import { createHttpClient, type HttpClient, type HttpResponse } from './http.ts';

export interface StockCall {
  /** Whose call it is; `tokenHash`/`tokenSha256` must be those of `subjectToken` (they key the exchange cache). */
  principal: Principal;
  subjectToken: string;
  scope: string;
  method?: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export interface StockResponse<T> {
  data: T;
  exchange: ExchangeResult;
  /** The stock API's HTTP status. */
  status: number;
}

export interface StockApi {
  call<T>(call: StockCall): Promise<StockResponse<T>>;
}

/**
 * The stock API client: every call exchanges the user's token (through the exchanger and its cache) for one scoped
 * to the call, then sends only the exchanged token.
 *
 *   const stock = createStockApi({ baseUrl: 'http://localhost:4000', audience: 'stock-api', timeoutMs: 5000, exchanger, metrics });
 *   const { data } = await stock.call({ principal, subjectToken, scope: 'trade:read', method: 'GET', path: '/stocks/ACME' });
 */
export function createStockApi(options: {
  baseUrl: string;
  audience: string;
  timeoutMs: number;
  exchanger: Exchanger;
  metrics: Metrics;
  http?: HttpClient;
}): StockApi {
  const http = options.http ?? createHttpClient();
  return {
    async call<T>(call: StockCall): Promise<StockResponse<T>> {
      // Throws ExchangeError (with the realm setting to check) when Keycloak refuses.
      const exchange = await options.exchanger.exchange({
        subjectToken: call.subjectToken,
        audience: options.audience,
        scope: call.scope,
        sub: call.principal.sub,
        tokenHash: call.principal.tokenHash,
        subjectSha256: call.principal.tokenSha256,
      });
      options.metrics.downstreamCalls += 1;
      let response: HttpResponse;
      try {
        response = await http.send(new URL(call.path, options.baseUrl), {
          method: call.method ?? 'GET',
          headers: {
            authorization: `Bearer ${exchange.accessToken}`,
            accept: 'application/json',
            ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          timeoutMs: options.timeoutMs,
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        throw new DownstreamError(
          timedOut ? 'stock_api_timeout' : 'stock_api_unreachable',
          timedOut
            ? `The stock API did not answer within ${options.timeoutMs} ms; try again later.`
            : `The stock API at ${options.baseUrl} is unreachable; check that it is running (make up starts it).`,
          { cause: error, exchange },
        );
      }
      const text = response.text;
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (response.status < 200 || response.status > 299) {
        const apiError = (
          parsed as { error?: { code?: string; message?: string; approval?: OrderApproval } } | undefined
        )?.error;
        const approval = apiError?.code === 'approval_required' ? apiError.approval : undefined;
        const code = approval
          ? 'approval_required'
          : response.status === 401 || response.status === 403
            ? 'stock_api_rejected'
            : 'stock_api_error';
        throw new DownstreamError(
          code,
          `The stock API answered ${response.status}${apiError?.code ? ` ${apiError.code}` : ''}: ${apiError?.message ?? (text.slice(0, 200) || 'no details')}`,
          { status: response.status, exchange, ...(approval ? { approval } : {}) },
        );
      }
      return { data: parsed as T, exchange, status: response.status };
    },
  };
}
