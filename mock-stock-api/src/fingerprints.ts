// The SHA-256 fingerprints of every bearer token this API received, accepted or not, for check-server's
// "no token passthrough" check (`GET /audit/token-fingerprints`). Holds fingerprints only, never a token.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export type TokenFingerprint = Readonly<{ at: string; route: string; sha256: string }>;

export type FingerprintLog = {
  /** Middleware: fingerprints the Authorization header's bearer token (if any) before any route runs. */
  middleware: MiddlewareHandler;
  list(): readonly TokenFingerprint[];
};

/** SHA-256 of the token text, hex: what check-server compares with the hash of the token it sent. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A ring buffer of the last `limit` fingerprints, oldest first. */
export function createFingerprintLog(limit = 1000, now: () => Date = () => new Date()): FingerprintLog {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('createFingerprintLog: limit must be a positive integer');
  const entries: TokenFingerprint[] = [];
  return {
    middleware: async function recordTokenFingerprint(c, next) {
      const match = /^Bearer\s+(\S+)/i.exec(c.req.header('authorization') ?? '');
      if (match?.[1]) {
        entries.push(
          Object.freeze({
            at: now().toISOString(),
            route: `${c.req.method} ${c.req.path}`,
            sha256: tokenFingerprint(match[1]),
          }),
        );
        if (entries.length > limit) entries.splice(0, entries.length - limit);
      }
      await next();
    },
    list: () => [...entries],
  };
}
