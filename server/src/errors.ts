// Typed errors with a stable code. `message` is what the client may see; `logDetail` stays in the log.
export type AuthErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  readonly logDetail: string | undefined;
  /** For insufficient_scope: every scope the request needs. */
  readonly requiredScopes: readonly string[];
  constructor(
    code: AuthErrorCode,
    message: string,
    options: { logDetail?: string; requiredScopes?: readonly string[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status =
      code === 'invalid_request'
        ? 400
        : code === 'insufficient_scope'
          ? 403
          : code === 'temporarily_unavailable'
            ? 503
            : 401;
    this.logDetail = options.logDetail;
    this.requiredScopes = options.requiredScopes ?? [];
  }
  toClientObject(): { error: AuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
  toLogObject(): Record<string, unknown> {
    return {
      error: this.code,
      description: this.message,
      detail: this.logDetail,
      cause: (this.cause as Error | undefined)?.name,
    };
  }
}

export type ExchangeErrorCode =
  | 'subject_not_in_audience'
  | 'audience_not_available'
  | 'scope_refused'
  | 'subject_token_invalid'
  | 'client_auth_failed'
  | 'exchange_not_enabled'
  | 'keycloak_unreachable'
  | 'exchange_failed';

/** A refused or failed RFC 8693 exchange, with the realm setting to check. */
export class ExchangeError extends Error {
  override name = 'ExchangeError';
  readonly code: ExchangeErrorCode;
  readonly fix: string;
  readonly keycloakError: string | undefined;
  constructor(
    code: ExchangeErrorCode,
    message: string,
    fix: string,
    options: { keycloakError?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.fix = fix;
    this.keycloakError = options.keycloakError;
  }
  toLogObject(): Record<string, unknown> {
    return { error: this.code, description: this.message, keycloak: this.keycloakError };
  }
}

export type DownstreamErrorCode =
  'stock_api_unreachable' | 'stock_api_timeout' | 'stock_api_rejected' | 'stock_api_error' | 'approval_required';

/** The stock API's description of an order that needs the user's approval (403 approval_required). */
export interface OrderApproval {
  summary: string;
  total: number;
  thresholdUsd: number;
}

export class DownstreamError extends Error {
  override name = 'DownstreamError';
  readonly code: DownstreamErrorCode;
  readonly status: number | undefined;
  readonly approval: OrderApproval | undefined;
  /** How the token for this call was obtained (the exchange succeeded; the stock API then refused or failed). */
  declare readonly exchange: { cache: string; exchangeMs?: number; accessToken: string } | undefined;
  constructor(
    code: DownstreamErrorCode,
    message: string,
    options: {
      status?: number;
      cause?: unknown;
      approval?: OrderApproval;
      exchange?: { cache: string; exchangeMs?: number; accessToken: string };
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.approval = options.approval;
    // Not enumerable: it holds the exchanged token, which must never reach a log line or a serialized error.
    Object.defineProperty(this, 'exchange', { value: options.exchange, enumerable: false });
  }
}
