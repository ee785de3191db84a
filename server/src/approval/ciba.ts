// Human approval of large orders: OpenID CIBA (poll mode) at Keycloak, requested by this server's own client for the
// token's user. Keycloak sends the request to the user's device (the approval device in this sandbox); this server
// polls the token endpoint until the user decides, the request expires, or APPROVAL_TIMEOUT_S passes. Only the token
// CIBA returns carries `trade:approved`, which the stock API requires above its threshold (keycloak/README.md, "CIBA").
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Principal } from '../auth/verify.ts';
import type { KeycloakClient } from '../exchange/keycloak.ts';
import type { Logger } from '../log.ts';

/** What the approval grants: placing orders, and the approval itself (the stock API's check). */
export const APPROVAL_SCOPE = 'openid trade:write trade:approved';

export type ApprovalErrorCode =
  | 'approval_denied'
  | 'approval_expired'
  | 'approval_timeout'
  | 'approval_failed'
  /** The client went away: nothing is placed for nobody. */
  | 'client_gone';

/** A decision other than yes, or no decision: the tool error says which, and that no order was placed. */
export class ApprovalError extends Error {
  override name = 'ApprovalError';
  readonly code: ApprovalErrorCode;
  constructor(code: ApprovalErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

export interface Approval {
  /** The CIBA access token: the user's, for this server, with `trade:approved`. Never logged. */
  accessToken: string;
  /** Its digests, as the exchanger keys its cache (so no other call ever reuses the approved exchange). */
  tokenHash: string;
  tokenSha256: string;
  waitedMs: number;
}

/** A CIBA request Keycloak accepted, not yet decided: what a later round needs to go on waiting for it. */
export interface PendingApproval {
  authReqId: string;
  expiresIn: number;
  interval?: number;
  summary: string;
  sub: string;
  startedAt: number;
}

export interface Approver {
  /** Sends the approval request to the user's device and returns at once. */
  start(request: { principal: Principal; summary: string }): Promise<PendingApproval>;
  /** Waits for the decision on a started request (poll). */
  wait(request: {
    principal: Principal;
    pending: PendingApproval;
    signal?: AbortSignal;
    onWaiting?: (seconds: number) => unknown;
  }): Promise<Approval>;
  /** start, then wait. */
  approve(request: {
    principal: Principal;
    summary: string;
    signal?: AbortSignal;
    /** Called when the request reached Keycloak and then every 2 s while the user has not decided. */
    onWaiting?: (seconds: number) => unknown;
  }): Promise<Approval>;
}

/**
 * Keycloak's binding_message allows only `[a-zA-Z0-9-._+/!?#]`, at most 50 characters: words are joined with "-"
 * and thousands separators dropped ("Buy 40 ACME at 142.35 USD, total 5,694.00" → "Buy-40-ACME-at-142.35-USD-total-5694.00").
 * Too long even so: the price is left out; still too long, undefined (the user must never approve a cut-off message).
 */
export function bindingMessage(summary: string): string | undefined {
  const fit = (text: string) =>
    text
      .replace(/(\d),(\d)/g, '$1$2')
      .replace(/[^a-zA-Z0-9._+/!?#]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const full = fit(summary);
  if (full.length <= 50) return full;
  const short = fit(summary.replace(/ at [\d.,]+ USD,/, ''));
  return short.length <= 50 ? short : undefined;
}

export function createApprover(options: { keycloak: KeycloakClient; timeoutMs: number; logger: Logger }): Approver {
  async function start({ principal, summary }: { principal: Principal; summary: string }): Promise<PendingApproval> {
    const who = principal.username;
    if (!who)
      throw new ApprovalError(
        'approval_failed',
        'The token names no username (preferred_username), so no approval request can reach the user; sign in again.',
      );
    const message = bindingMessage(summary);
    if (!message)
      throw new ApprovalError(
        'approval_failed',
        `"${summary}" does not fit the 50 characters Keycloak allows for the message shown on the device, so it cannot be approved; place a smaller order. No order was placed.`,
      );
    let request: oidc.BackchannelAuthenticationResponse;
    try {
      request = await oidc.initiateBackchannelAuthentication(await options.keycloak.configuration(), {
        scope: APPROVAL_SCOPE,
        login_hint: who,
        binding_message: message,
      });
    } catch (error) {
      throw new ApprovalError(
        'approval_failed',
        `Keycloak refused the approval request (${describe(error)}). Check the realm: CIBA enabled for the MCP server's client, the approval device reachable from Keycloak (keycloak/README.md, "CIBA").`,
        { cause: error },
      );
    }
    options.logger.log('info', 'approval requested', {
      sub: principal.sub,
      bindingMessage: message,
      expiresIn: request.expires_in,
    });
    return {
      authReqId: request.auth_req_id,
      expiresIn: request.expires_in,
      ...(request.interval === undefined ? {} : { interval: request.interval }),
      summary,
      sub: principal.sub,
      startedAt: Date.now(),
    };
  }

  async function wait({
    principal,
    pending,
    signal,
    onWaiting,
  }: {
    principal: Principal;
    pending: PendingApproval;
    signal?: AbortSignal;
    onWaiting?: (seconds: number) => unknown;
  }): Promise<Approval> {
    const { summary } = pending;
    const who = principal.username ?? principal.sub;
    if (pending.sub !== principal.sub)
      throw new ApprovalError('approval_failed', 'This approval request belongs to another user; no order was placed.');
    const config = await options.keycloak.configuration();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const report = () => {
      try {
        void Promise.resolve(onWaiting?.(Math.round((Date.now() - pending.startedAt) / 1000))).catch(() => {});
      } catch {
        /* a client that went away cannot be told */
      }
    };
    report();
    const ticker = onWaiting ? setInterval(report, 2000) : undefined;
    try {
      const response = {
        auth_req_id: pending.authReqId,
        expires_in: pending.expiresIn,
        ...(pending.interval === undefined ? {} : { interval: pending.interval }),
      } as oidc.BackchannelAuthenticationResponse;
      const tokens = await oidc.pollBackchannelAuthenticationGrant(config, response, undefined, {
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
      const digest = createHash('sha256').update(tokens.access_token).digest();
      const claims = tokens.claims() ?? decodePayload(tokens.access_token);
      if (claims?.sub !== principal.sub)
        throw new ApprovalError(
          'approval_failed',
          'Keycloak returned an approval for another user; no order was placed.',
        );
      const waitedMs = Date.now() - pending.startedAt;
      options.logger.log('info', 'approval granted', {
        sub: principal.sub,
        waitedMs,
        tokenHash: digest.toString('hex', 0, 8),
      });
      return {
        accessToken: tokens.access_token,
        tokenHash: digest.toString('hex', 0, 8),
        tokenSha256: digest.toString('base64url'),
        waitedMs,
      };
    } catch (error) {
      if (error instanceof ApprovalError) throw error;
      if (signal?.aborted && !timeout.aborted) {
        // Keycloak has no way to cancel a CIBA request: it stays on the device until it expires, and an approval
        // given now yields a token nobody polls for.
        options.logger.log('info', 'approval abandoned: the client went away; the request is left to expire', {
          sub: principal.sub,
          waited: Math.round((Date.now() - pending.startedAt) / 1000),
          expiresIn: pending.expiresIn,
        });
        throw clientGone(summary);
      }
      const code = (error as { error?: string }).error;
      options.logger.log('info', 'approval not granted', {
        sub: principal.sub,
        waited: Math.round((Date.now() - pending.startedAt) / 1000),
        code: code ?? (error as Error).name,
      });
      if (code === 'access_denied')
        throw new ApprovalError('approval_denied', `${who} denied "${summary}" on their device. No order was placed.`);
      if (code === 'expired_token')
        throw new ApprovalError(
          'approval_expired',
          `Nobody approved "${summary}" before Keycloak's approval request expired (${pending.expiresIn} s). No order was placed; place it again to ask again.`,
        );
      if (timeout.aborted || (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError')
        throw new ApprovalError(
          'approval_timeout',
          `No decision on "${summary}" within ${Math.round(options.timeoutMs / 1000)} s, so the server stopped waiting. No order was placed; approve faster or place it again.`,
        );
      throw new ApprovalError(
        'approval_failed',
        `Waiting for the approval failed (${describe(error)}). No order was placed.`,
        {
          cause: error,
        },
      );
    } finally {
      clearInterval(ticker);
    }
  }

  return {
    start,
    wait,
    async approve({ principal, summary, signal, onWaiting }) {
      const pending = await start({ principal, summary });
      return wait({ principal, pending, ...(signal ? { signal } : {}), ...(onWaiting ? { onWaiting } : {}) });
    },
  };
}

/** The error for a call whose client disconnected: no order is placed after that. */
export function clientGone(summary: string): ApprovalError {
  return new ApprovalError('client_gone', `The client went away while "${summary}" was pending. No order was placed.`);
}

function describe(error: unknown): string {
  const e = error as { error?: string; error_description?: string; message?: string };
  return e.error ? `${e.error}${e.error_description ? `: ${e.error_description}` : ''}` : (e.message ?? String(error));
}

function decodePayload(jwt: string): { sub?: string } | undefined {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { sub?: string };
  } catch {
    return undefined;
  }
}
