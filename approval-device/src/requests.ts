// The approval requests this device holds, in this process's memory (Keycloak posts each one here; nothing else needs
// them, and a restart losing them only means Keycloak's requests expire undecided). Each is bound to the user the
// verified channel token names, and is decided at most once: `claim` moves it from pending to deciding in one
// synchronous step, before any await, so a second decision finds it taken.
import { randomUUID } from 'node:crypto';
import type { ChannelClaims } from './channel.ts';
import type { DeviceUser } from './keycloak.ts';

export type Status = 'pending' | 'deciding' | 'approved' | 'denied' | 'expired' | 'failed';

/** What a page or the JSON view may show: no token. */
export interface RequestView {
  id: string;
  /** The username from the body's login_hint. */
  user: string;
  /** The client that asked (the channel token's azp). */
  client: string;
  bindingMessage: string;
  /** The binding message as words: the MCP server writes "Buy-40-ACME-…" because Keycloak allows no spaces. */
  summary: string;
  scope: string;
  receivedAt: string;
  /** When Keycloak's request expires (the channel token's exp). */
  expiresAt: string;
  status: Status;
  /** What Keycloak answered to the decision (failed: why; expired: when). */
  outcome?: string;
}

interface Held extends RequestView {
  /** The user's ID from the verified channel token. */
  sub: string;
  /** Keycloak's channel token: the bearer for the callback. Never rendered, never logged. */
  callbackToken: string;
  expiresAtMs: number;
  listedUntilMs: number;
}

export type Claim =
  { ok: true; request: Held } | { ok: false; reason: 'unknown' | 'decided' | 'expired'; request?: RequestView };

export function createRequestStore(options: { ttlMs: number; now: () => number }) {
  const { now } = options;
  const held = new Map<string, Held>();
  /** jti → expiry: a channel token is accepted once, so a copy of it cannot post a second prompt. */
  const seen = new Map<string, number>();

  const view = ({ sub: _s, callbackToken: _t, expiresAtMs: _e, listedUntilMs: _l, ...rest }: Held): RequestView => ({
    ...rest,
  });
  const sweep = () => {
    const t = now();
    for (const [id, r] of held) {
      if (t > r.listedUntilMs) held.delete(id);
      else if (r.status === 'pending' && t >= r.expiresAtMs) {
        r.status = 'expired';
        r.outcome = `Keycloak's request expired at ${r.expiresAt} before anyone decided`;
      }
    }
    for (const [jti, exp] of seen) if (t > exp) seen.delete(jti);
  };
  const mine = (r: Held, user: DeviceUser) => r.sub === user.sub && r.user === user.username;

  return {
    /** Adds a request; false when this channel token (jti) was already used. */
    add(
      claims: ChannelClaims,
      body: { login_hint: string; binding_message?: string | undefined; scope?: string | undefined },
      callbackToken: string,
    ): RequestView | false {
      sweep();
      if (seen.has(claims.jti)) return false;
      seen.set(claims.jti, claims.exp * 1000);
      const message = body.binding_message ?? '(no binding message)';
      const request: Held = {
        id: randomUUID(),
        sub: claims.sub,
        user: body.login_hint,
        client: claims.azp,
        bindingMessage: message,
        summary: message.replace(/-/g, ' '),
        scope: body.scope ?? '',
        receivedAt: new Date(now()).toISOString(),
        expiresAt: new Date(claims.exp * 1000).toISOString(),
        expiresAtMs: claims.exp * 1000,
        listedUntilMs: Math.max(now() + options.ttlMs, claims.exp * 1000),
        status: 'pending',
        callbackToken,
      };
      held.set(request.id, request);
      return view(request);
    },

    /**
     * The user's requests, newest first. A request is the user's when the channel token's `sub` is their ID and the
     * body's login_hint is their username: both must agree with the signed-in user.
     */
    listFor(user: DeviceUser): RequestView[] {
      sweep();
      return [...held.values()]
        .filter((r) => mine(r, user))
        .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
        .map(view);
    },

    /** Compare-and-set: pending → deciding, for this user's own request that has not expired. Synchronous. */
    claim(id: string, user: DeviceUser): Claim {
      sweep();
      const request = held.get(id);
      if (!request || !mine(request, user)) return { ok: false, reason: 'unknown' };
      if (request.status === 'expired') return { ok: false, reason: 'expired', request: view(request) };
      if (request.status !== 'pending') return { ok: false, reason: 'decided', request: view(request) };
      request.status = 'deciding';
      return { ok: true, request };
    },

    /** Records how Keycloak answered a claimed request. */
    settle(id: string, status: Exclude<Status, 'pending' | 'deciding'>, outcome: string): RequestView | undefined {
      const request = held.get(id);
      if (!request) return undefined;
      request.status = status;
      request.outcome = outcome;
      return view(request);
    },
  };
}

export type RequestStore = ReturnType<typeof createRequestStore>;
