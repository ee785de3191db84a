// What the workshop explorer shows of one tool call, and where it keeps the last few calls of each user.
// Tokens never go in: both are decoded (header and claims) and named by the SHA-256 prefix the logs use.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { tokenHash } from '../log.ts';

export interface DecodedToken {
  /** SHA-256 prefix, as in the logs. */
  hash: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** One request to Keycloak's token endpoint as sent, with the client secret and the subject token replaced by hashes. */
export interface SentRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  form: Record<string, string>;
}

/** One trip to the stock API: the exchange in front of it, then the stock API's answer. */
export interface DownstreamStep {
  method: string;
  path: string;
  scope: string;
  /** Set when the exchange's subject was not the user's token (a large order's CIBA approval token). */
  subjectHash?: string;
  /** hit: served from the exchange cache; miss: exchanged at Keycloak now; joined: shared a concurrent miss. */
  cache: string;
  /** The exchange request as sent (on a miss only: a hit sends nothing). */
  exchangeRequest?: SentRequest;
  exchangeMs?: number;
  exchanged?: DecodedToken;
  /** Keycloak's refusal, when the exchange failed. */
  exchangeError?: { code: string; message: string; keycloak?: string };
  status?: number;
  /** What the stock API decided: "allowed", or its error code. */
  decision: string;
  ms: number;
}

export interface CallTrace {
  id: number;
  at: string;
  tool: string;
  requestId: string;
  sub: string;
  username: string | undefined;
  userToken: DecodedToken;
  steps: DownstreamStep[];
  outcome: 'ok' | 'error';
  /** The tool's error text, when it failed. */
  message?: string;
  totalMs: number;
}

export function decodeToken(token: string): DecodedToken {
  try {
    return { hash: tokenHash(token), header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return { hash: tokenHash(token), header: {}, claims: {} };
  }
}

/** Where the explorer keeps each user's last calls: this process's memory, or Redis shared by every replica. */
export interface CallStore {
  /** Never throws: a call that cannot be recorded is only missing from the page. */
  record(trace: Omit<CallTrace, 'id'>): Promise<void>;
  /** The user's calls, newest first. */
  list(sub: string): Promise<readonly CallTrace[]>;
  /** The newest call id of this user (0 when none): the page's poll asks whether it changed. */
  latest(sub: string): Promise<number>;
}

/**
 * Keeps the last `perUser` calls of each of the last `users` users, in this process: one server replica (no
 * REDIS_URL); with Redis every replica shares store.ts's store instead.
 */
export function createMemoryCallStore(options: { perUser?: number; users?: number } = {}): CallStore {
  const perUser = options.perUser ?? CALLS_PER_USER;
  const users = options.users ?? 500;
  const byUser = new Map<string, CallTrace[]>();
  let nextId = 1;
  return {
    async record(trace) {
      const calls = byUser.get(trace.sub) ?? [];
      byUser.delete(trace.sub); // re-insert: the map's order is least recently active first
      calls.unshift({ ...trace, id: nextId++ });
      if (calls.length > perUser) calls.length = perUser;
      byUser.set(trace.sub, calls);
      if (byUser.size > users) byUser.delete(byUser.keys().next().value as string);
    },
    list: async (sub) => byUser.get(sub) ?? [],
    latest: async (sub) => byUser.get(sub)?.[0]?.id ?? 0,
  };
}

/** How many calls of each user the explorer keeps. */
export const CALLS_PER_USER = 20;
