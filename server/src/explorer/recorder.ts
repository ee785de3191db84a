// Notes what one tool call did on its way to the stock API, for the workshop explorer: wraps the call's StockApi,
// then files the call under the user's `sub`. Nothing here changes what the call does or sends.
import type { Principal } from '../auth/verify.ts';
import type { StockApi } from '../downstream/stock-api.ts';
import { DownstreamError, ExchangeError } from '../errors.ts';
import { exchangeParameters, TOKEN_EXCHANGE_GRANT } from '../exchange/exchanger.ts';
import { tokenHash } from '../log.ts';
import { decodeToken, type CallStore, type DownstreamStep, type SentRequest } from './calls.ts';

export interface CallRecording {
  /** The StockApi the tool gets: the same calls, each one noted. */
  wrap(stock: StockApi): StockApi;
  /** Files the call; `errorText` is the tool's error message when it failed. */
  end(outcome: 'ok' | 'error', errorText?: string): void;
}

export interface CallRecorder {
  begin(call: { tool: string; requestId: string; principal: Principal; token: string }): CallRecording;
}

export interface RecorderOptions {
  store: CallStore;
  /** Keycloak's token endpoint, from the discovery the exchanger uses. */
  tokenEndpoint: () => Promise<string>;
  clientId: string;
  clientSecret: string;
  audience: string;
}

/**
 * The exchange request as the exchanger sends it (openid-client, client_secret_basic), with the client secret and
 * the subject token replaced by their SHA-256 prefixes.
 */
export function redactedExchangeRequest(
  options: Pick<RecorderOptions, 'clientId' | 'clientSecret'>,
  url: string,
  request: { subjectToken: string; audience: string; scope: string },
): SentRequest {
  const params = exchangeParameters(request);
  return {
    method: 'POST',
    url,
    headers: {
      authorization: `Basic base64(${options.clientId}:<client secret, sha256 ${tokenHash(options.clientSecret)}>)`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    form: {
      grant_type: TOKEN_EXCHANGE_GRANT,
      ...params,
      subject_token: `<access token, sha256 ${tokenHash(request.subjectToken)}>`,
    },
  };
}

export function createCallRecorder(options: RecorderOptions): CallRecorder {
  return {
    begin(call) {
      const started = performance.now();
      const steps: DownstreamStep[] = [];
      return {
        wrap: (stock) => ({
          async call(request) {
            const stepStarted = performance.now();
            const method = request.method ?? 'GET';
            const step: DownstreamStep = {
              method,
              path: request.path,
              scope: request.scope,
              cache: '?',
              decision: '',
              ms: 0,
            };
            if (request.subjectToken !== call.token) step.subjectHash = tokenHash(request.subjectToken);
            steps.push(step);
            const sent = async () =>
              redactedExchangeRequest(options, await options.tokenEndpoint().catch(() => '(token endpoint)'), {
                subjectToken: request.subjectToken,
                audience: options.audience,
                scope: request.scope,
              });
            try {
              const response = await stock.call(request);
              step.cache = response.exchange.cache;
              if (response.exchange.exchangeMs !== undefined) step.exchangeMs = response.exchange.exchangeMs;
              if (response.exchange.cache === 'miss' || response.exchange.cache === 'off')
                step.exchangeRequest = await sent();
              step.exchanged = decodeToken(response.exchange.accessToken);
              step.status = response.status;
              step.decision = 'allowed';
              return response as never;
            } catch (error) {
              if (error instanceof ExchangeError) {
                step.cache = 'miss';
                step.exchangeRequest = await sent();
                step.exchangeError = {
                  code: error.code,
                  message: error.message,
                  ...(error.keycloakError ? { keycloak: error.keycloakError } : {}),
                };
                step.decision = 'not reached (the exchange failed)';
              } else if (error instanceof DownstreamError) {
                if (error.exchange) {
                  step.cache = error.exchange.cache;
                  if (error.exchange.exchangeMs !== undefined) step.exchangeMs = error.exchange.exchangeMs;
                  if (error.exchange.cache === 'miss' || error.exchange.cache === 'off')
                    step.exchangeRequest = await sent();
                  step.exchanged = decodeToken(error.exchange.accessToken);
                }
                if (error.status !== undefined) step.status = error.status;
                step.decision = error.code;
              } else step.decision = (error as Error).name;
              throw error;
            } finally {
              step.ms = Math.round(performance.now() - stepStarted);
            }
          },
        }),
        end(outcome, errorText) {
          void options.store.record({
            at: new Date().toISOString(),
            tool: call.tool,
            requestId: call.requestId,
            sub: call.principal.sub,
            username: call.principal.username,
            userToken: decodeToken(call.token),
            steps,
            outcome,
            ...(errorText ? { message: errorText } : {}),
            totalMs: Math.round(performance.now() - started),
          });
        },
      };
    },
  };
}
