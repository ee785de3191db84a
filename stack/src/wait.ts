// Poll an HTTP endpoint until it answers 2xx, printing progress; fail with the log tail when the process died.
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';

export interface WaitOptions {
  url: string;
  service: string;
  timeoutMs: number;
  isAlive?: () => boolean;
  logTail?: () => string;
  progress?: (line: string) => void;
  /** Replaces the plain fetch of `url` (e.g. an HTTPS check against the sandbox's own CA); true when ready. */
  probe?: () => Promise<boolean>;
}

export async function waitForHttp(options: WaitOptions): Promise<number> {
  const started = performance.now();
  let lastReport = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    try {
      if (options.probe) {
        if (await options.probe()) return Math.round(elapsed) / 1000;
      } else {
        const response = await fetch(options.url, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return Math.round(elapsed) / 1000;
      }
    } catch {
      /* not up yet */
    }
    if (options.isAlive && !options.isAlive()) {
      throw new StackError(
        'service_failed',
        `${options.service} exited before it was ready.\n--- last log lines ---\n${options.logTail?.() ?? ''}`,
        `read the log above; the full log is in the run directory`,
      );
    }
    if (elapsed > options.timeoutMs) {
      throw new StackError(
        'not_ready',
        `${options.service} was not ready at ${options.url} after ${Math.round(elapsed / 1000)} s.\n--- last log lines ---\n${options.logTail?.() ?? ''}`,
        'the machine may be overloaded; retry, or raise the timeout with STACK_READY_TIMEOUT_S',
      );
    }
    if (options.progress && elapsed - lastReport >= 5000) {
      lastReport = elapsed;
      options.progress(`  waiting for ${options.service} … ${Math.round(elapsed / 1000)} s`);
    }
    await sleep(500);
  }
}
