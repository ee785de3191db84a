// Structured JSON logs, one line per event. Tokens never go in: use tokenHash() or the jti.
import { createHash } from 'node:crypto';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

/** First 16 hex digits of SHA-256: enough to correlate log lines, useless to an attacker. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

export function createLogger(level: Level | 'silent', write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const threshold = ORDER[level];
  return {
    log(lvl, msg, fields) {
      if (ORDER[lvl] < threshold) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`);
    },
  };
}
