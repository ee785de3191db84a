// Startup and shutdown for the small services: JSON log lines on stdout, the config or a fatal `invalid_config` line
// and exit 1, and a clean close on SIGINT/SIGTERM.
import { ConfigError } from './config.ts';

/** One log entry: `at`, `level` and `msg`, then any fields (never a token). */
export type LogLine = Record<string, unknown>;
export type WriteLog = (entry: LogLine) => void;

/** One JSON line per entry, written at once. */
export const writeJsonLine: WriteLog = (entry) => void process.stdout.write(`${JSON.stringify(entry)}\n`);

/** One JSON line per entry, batched per event-loop turn (one write per batch; flushed on exit): for busy services. */
export function batchedJsonLines(): WriteLog {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    process.stdout.write(chunk);
  };
  process.once('exit', flush);
  return (entry) => {
    if (pending.push(`${JSON.stringify(entry)}\n`) === 1) setImmediate(flush);
  };
}

export const now = () => new Date().toISOString();

/** The service's config, or a fatal log line naming each invalid variable and exit 1. */
export function configOrExit<C>(load: () => C, write: WriteLog): C {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    write({ at: now(), level: 'fatal', msg: 'invalid_config', problems: err.problems });
    process.exit(1);
  }
}

/** Closes the server on SIGINT/SIGTERM, logging it, then exits 0. */
export function closeOnSignals(server: { close(done: () => void): unknown }, write: WriteLog): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      write({ at: now(), level: 'info', msg: 'shutdown', signal });
      server.close(() => process.exit(0));
    });
  }
}
