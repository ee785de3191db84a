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

/**
 * Writes to stdout in batches: lines are joined and flushed on the next turn of the event loop (or at 64 KB), so a
 * busy server makes one write per batch instead of one per line. Flushes synchronously on exit.
 */
export function bufferedStdout(): (line: string) => void {
  let pending: string[] = [];
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    bytes = 0;
    process.stdout.write(chunk);
  };
  process.once('exit', flush);
  return (line) => {
    pending.push(line);
    bytes += line.length;
    if (bytes >= 65_536) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** A JSON-lines logger at `level` (lines below it are dropped); `write` defaults to buffered stdout. */
export function createLogger(level: Level | 'silent', write: (line: string) => void = bufferedStdout()): Logger {
  const threshold = ORDER[level];
  return {
    log(lvl, msg, fields) {
      if (ORDER[lvl] < threshold) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`);
    },
  };
}
