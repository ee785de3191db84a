// Typed API errors and their HTTP form (JSON body + RFC 6750 challenge).

const STATUS = {
  missing_token: 401,
  invalid_token: 401,
  wrong_token_type: 401,
  wrong_audience: 401,
  not_exchanged: 401,
  malformed_authorization: 400,
  invalid_request: 400,
  insufficient_scope: 403,
  approval_required: 403,
  unknown_symbol: 404,
  not_found: 404,
  invalid_json: 400,
  invalid_order: 400,
  payload_too_large: 413,
  insufficient_funds: 422,
  insufficient_holdings: 422,
  internal_error: 500,
  keys_unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof STATUS;
export type ApiErrorStatus = (typeof STATUS)[ApiErrorCode];

export type ApiErrorOptions = {
  /** Underlying error; logged, never sent. */
  cause?: unknown;
  /** Internal detail for the log (never a token). */
  detail?: string;
  /** Scope(s) the request needed; sent in the 403 challenge. */
  scope?: string;
  /** Field-level messages for invalid bodies. */
  fields?: Record<string, string>;
  /** approval_required: what the user must approve (sent to the client, which asks the user). */
  approval?: OrderApproval;
};

/** A large order's details, for the approval request the MCP server sends to the user's device. */
export type OrderApproval = {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  total: number;
  thresholdUsd: number;
  /** "Buy 40 ACME at 142.35 USD, total 5,694.00" */
  summary: string;
};

/** An error with a stable code, a client message, and a separate log view. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: ApiErrorStatus;
  readonly detail: string | undefined;
  readonly scope: string | undefined;
  readonly fields: Record<string, string> | undefined;
  readonly approval: OrderApproval | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = STATUS[code];
    this.detail = options.detail;
    this.scope = options.scope;
    this.fields = options.fields;
    this.approval = options.approval;
  }

  /** What the client sees. */
  toClientObject(): {
    error: { code: ApiErrorCode; message: string; fields?: Record<string, string>; approval?: OrderApproval };
  } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...(this.approval ? { approval: this.approval } : {}),
      },
    };
  }

  /** What the log gets. */
  toLogObject(): Record<string, unknown> {
    const cause = this.cause instanceof Error ? `${this.cause.name}: ${this.cause.message}` : undefined;
    return { code: this.code, status: this.status, message: this.message, detail: this.detail, cause };
  }
}

/**
 * An RFC 6750 §3 attribute value, quoted: only %x20-21 / %x23-5B / %x5D-7E may appear, so `"` becomes `'`, `\`
 * becomes `/` and anything else outside printable ASCII a space. The MCP server's challenges use the same rule.
 */
export function quoteHeaderValue(value: string): string {
  return `"${value
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, ' ')}"`;
}

/** RFC 6750 §3 challenge for an error, or undefined when none applies. */
export function challengeFor(err: ApiError): string | undefined {
  if (err.code === 'missing_token') return 'Bearer realm="stock-api"'; // §3.1: no error code without credentials
  if (err.code === 'insufficient_scope') {
    const scope = err.scope ? `, scope=${quoteHeaderValue(err.scope)}` : '';
    return `Bearer realm="stock-api", error="insufficient_scope"${scope}, error_description=${quoteHeaderValue(err.message)}`;
  }
  if (err.status === 401) {
    return `Bearer realm="stock-api", error="invalid_token", error_description=${quoteHeaderValue(err.message)}`;
  }
  if (err.code === 'malformed_authorization') {
    return `Bearer realm="stock-api", error="invalid_request", error_description=${quoteHeaderValue(err.message)}`;
  }
  return undefined;
}

/** Turns any error into a JSON response; unknown errors become a bare 500. */
export function errorResponse(err: unknown): Response {
  const apiError =
    err instanceof ApiError ? err : new ApiError('internal_error', 'Internal server error.', { cause: err });
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  const challenge = challengeFor(apiError);
  if (challenge) headers.set('www-authenticate', challenge);
  return new Response(JSON.stringify(apiError.toClientObject()), { status: apiError.status, headers });
}
