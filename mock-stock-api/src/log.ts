// One JSON log line per request. Logs path (never the query string), status, and token ids — never a token.
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.ts';
import type { AuthEnv } from './middleware.ts';

export type LogEntry = Record<string, unknown>;
export type LogWriter = (entry: LogEntry) => void;

export function requestLogger(write: LogWriter): MiddlewareHandler<AuthEnv> {
  if (typeof write !== 'function') throw new TypeError('requestLogger: "write" must be a function');
  return async function requestLoggerMiddleware(c, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      const claims = c.get('claims');
      const failure = c.get('authFailure') ?? (c.error instanceof ApiError ? c.error : undefined);
      write({
        at: new Date().toISOString(),
        level: c.res.status >= 500 ? 'error' : 'info',
        msg: 'request',
        method: c.req.method,
        route: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
        jti: claims?.jti ?? null,
        sub: claims?.sub ?? null,
        azp: claims?.azp ?? null,
        ...(failure ? { error: failure.toLogObject() } : {}),
        ...(c.error && !(c.error instanceof ApiError)
          ? { error: { name: c.error.name, message: c.error.message, stack: c.error.stack } }
          : {}),
      });
    }
  };
}
