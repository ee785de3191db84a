// In-memory record of the last auth decisions, for tests and workshops. Never holds a token.
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';

export type AuthDecision = Readonly<{
  at: string;
  route: string;
  accepted: boolean;
  code?: string;
  jti: string | null;
  sub: string | null;
  azp: string | null;
  aud: readonly string[];
  scope: string | null;
  /** First 16 hex chars of SHA-256(token): lets you correlate without storing the token. */
  tokenSha256Prefix: string | null;
}>;

export type TokenSummary = Pick<AuthDecision, 'jti' | 'sub' | 'azp' | 'aud' | 'scope' | 'tokenSha256Prefix'>;

export type DecisionLog = {
  record(decision: AuthDecision): void;
  list(): readonly AuthDecision[];
};

const EMPTY: TokenSummary = { jti: null, sub: null, azp: null, aud: [], scope: null, tokenSha256Prefix: null };

/** A ring buffer of the last `limit` decisions, oldest first. */
export function createDecisionLog(limit = 200): DecisionLog {
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('createDecisionLog: limit must be a positive integer');
  const decisions: AuthDecision[] = [];
  return {
    record(decision) {
      decisions.push(Object.freeze({ ...decision, aud: [...decision.aud] }));
      if (decisions.length > limit) decisions.splice(0, decisions.length - limit);
    },
    list: () => [...decisions],
  };
}

/**
 * Summarises a token for the record: its hash prefix and a few claims, decoded WITHOUT verification
 * (so rejected tokens can be diagnosed). Values are bounded; the token itself is never kept.
 */
export function summarizeToken(token: string | undefined): TokenSummary {
  if (!token) return EMPTY;
  const tokenSha256Prefix = createHash('sha256').update(token).digest('hex').slice(0, 16);
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(token);
  } catch {
    // Malformed: keep only the hash.
  }
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  return {
    jti: text(claims.jti),
    sub: text(claims.sub),
    azp: text(claims.azp),
    aud: aud
      .filter((a): a is string => typeof a === 'string')
      .slice(0, 10)
      .map((a) => a.slice(0, 200)),
    scope: text(claims.scope),
    tokenSha256Prefix,
  };
}
