// A room at once: N attendees run concurrently (staggered starts), faults fire on a timeline, and the outcome is
// summarised: calls attempted, succeeded, failed by class, p50/p99 per step, exchanges per (user, scope) as the stock
// API saw them, cross-user leaks and orders lost or doubled (both must be 0).
import { spawn } from 'node:child_process';
import { runAttendee, type Attendee, type AttendeeOutcome, type Urls } from './attendee.ts';

export interface Fault {
  /** Seconds after the start. */
  atS: number;
  label: string;
  /** A shell command (e.g. `docker compose -p mcp-sandbox-shared stop keycloak-2`). */
  command: string;
}

export interface ScaleOptions extends Urls {
  stockApi: string;
  attendees: readonly Attendee[];
  /** Milliseconds between two attendees' starts. */
  staggerMs?: number;
  faults?: readonly Fault[];
}

export interface StepStats {
  attempted: number;
  succeeded: number;
  p50Ms: number;
  p99Ms: number;
  failures: Record<string, number>;
}

export interface ScaleReport {
  at: string;
  attendees: number;
  durationS: number;
  calls: { attempted: number; succeeded: number; failed: number; failedByClass: Record<string, number> };
  steps: Record<string, StepStats>;
  /** Exchanged tokens the stock API saw per user and scope (each distinct token is one exchange). */
  exchangesPerUserScope: { max: number; mean: number; pairs: number };
  leaks: number;
  ordersLost: number;
  ordersDoubled: number;
  faults: Array<Fault & { exitCode: number | null; firedAtS: number }>;
  /** Per attendee: when each step ended (seconds since start) and how long it took, for the chart. */
  timeline: Array<{ attendee: string; step: string; endS: number; ms: number; ok: boolean }>;
  outcomes: AttendeeOutcome[];
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

function runFault(fault: Fault): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', fault.command], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
}

export async function runScale(options: ScaleOptions): Promise<ScaleReport> {
  const started = performance.now();
  const sinceStart = () => (performance.now() - started) / 1000;
  const timeline: ScaleReport['timeline'] = [];
  const firedFaults: ScaleReport['faults'] = [];
  const faultRuns = (options.faults ?? []).map(async (fault) => {
    await new Promise((resolve) => setTimeout(resolve, fault.atS * 1000));
    const firedAtS = Math.round(sinceStart() * 10) / 10;
    const exitCode = await runFault(fault);
    firedFaults.push({ ...fault, exitCode, firedAtS });
  });
  const outcomes = await Promise.all(
    options.attendees.map(async (attendee, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * (options.staggerMs ?? 150)));
      const startedAtS = sinceStart();
      const outcome = await runAttendee(attendee, options).catch((error: Error): AttendeeOutcome => ({
        attendee: attendee.username,
        steps: [{ attendee: attendee.username, step: 'crashed', ok: false, ms: 0, failure: error.name }],
        leaks: 0,
        ordersFilled: 0,
        sharesExpected: 0,
        sharesGained: undefined,
        registeredClientId: undefined,
      }));
      let end = startedAtS;
      for (const record of outcome.steps) {
        end += record.ms / 1000;
        timeline.push({ attendee: attendee.username, step: record.step, endS: end, ms: record.ms, ok: record.ok });
      }
      return outcome;
    }),
  );
  await Promise.all(faultRuns);
  const records = outcomes.flatMap((o) => o.steps);
  const steps: Record<string, StepStats> = {};
  for (const name of [...new Set(records.map((r) => r.step))]) {
    const of = records.filter((r) => r.step === name);
    const sorted = of.map((r) => r.ms).sort((a, b) => a - b);
    const failures: Record<string, number> = {};
    for (const r of of) if (!r.ok) failures[r.failure ?? 'unknown'] = (failures[r.failure ?? 'unknown'] ?? 0) + 1;
    steps[name] = {
      attempted: of.length,
      succeeded: of.filter((r) => r.ok).length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      failures,
    };
  }
  const failedByClass: Record<string, number> = {};
  for (const r of records)
    if (!r.ok) failedByClass[r.failure ?? 'unknown'] = (failedByClass[r.failure ?? 'unknown'] ?? 0) + 1;
  // Orders: what each attendee saw filled against what its portfolio gained. Unknown (a portfolio read failed) is
  // neither lost nor doubled, and is visible as that step's failure.
  let ordersLost = 0;
  let ordersDoubled = 0;
  for (const o of outcomes) {
    if (o.sharesGained === undefined) continue;
    if (o.sharesGained < o.sharesExpected) ordersLost += 1;
    if (o.sharesGained > o.sharesExpected) ordersDoubled += 1;
  }
  const subs = new Set(outcomes.flatMap((o) => (o.sub ? [o.sub] : [])));
  const exchanges = await exchangesPerUserScope(options.stockApi, options.fetch ?? fetch, subs);
  return {
    at: new Date().toISOString(),
    attendees: options.attendees.length,
    durationS: Math.round(sinceStart() * 10) / 10,
    calls: {
      attempted: records.length,
      succeeded: records.filter((r) => r.ok).length,
      failed: records.filter((r) => !r.ok).length,
      failedByClass,
    },
    steps,
    exchangesPerUserScope: exchanges,
    leaks: outcomes.reduce((sum, o) => sum + o.leaks, 0),
    ordersLost,
    ordersDoubled,
    faults: firedFaults,
    timeline,
    outcomes,
  };
}

/** Distinct exchanged tokens per (sub, scope) of this room's attendees among the stock API's recorded decisions. */
async function exchangesPerUserScope(
  stockApi: string,
  fetchFn: typeof fetch,
  subs: ReadonlySet<string>,
): Promise<ScaleReport['exchangesPerUserScope']> {
  try {
    const body = (await (await fetchFn(`${stockApi}/_sandbox/received`)).json()) as {
      decisions: Array<{
        sub: string | null;
        scope: string | null;
        tokenSha256Prefix: string | null;
        accepted: boolean;
      }>;
    };
    const tokens = new Map<string, Set<string>>();
    for (const d of body.decisions) {
      if (!d.accepted || !d.sub || !subs.has(d.sub) || !d.tokenSha256Prefix) continue;
      const key = `${d.sub} ${d.scope ?? ''}`;
      tokens.set(key, (tokens.get(key) ?? new Set()).add(d.tokenSha256Prefix));
    }
    const counts = [...tokens.values()].map((s) => s.size);
    return {
      max: Math.max(0, ...counts),
      mean: counts.length ? Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100 : 0,
      pairs: counts.length,
    };
  } catch {
    return { max: 0, mean: 0, pairs: 0 };
  }
}

/** An SVG chart: each step's end time (x, seconds) per attendee (y), green when it succeeded, red when not; faults as lines. */
export function chartSvg(report: ScaleReport): string {
  const width = 900;
  const rowHeight = 8;
  const names = [...new Set(report.timeline.map((t) => t.attendee))].sort();
  const height = Math.max(120, names.length * rowHeight + 60);
  const maxS = Math.max(1, report.durationS);
  const x = (s: number) => 60 + (s / maxS) * (width - 80);
  const dots = report.timeline
    .map((t) => {
      const y = 30 + names.indexOf(t.attendee) * rowHeight;
      return `<circle cx="${x(t.endS).toFixed(1)}" cy="${y}" r="3" fill="${t.ok ? '#0b7a2a' : '#c0141b'}"><title>${t.attendee} ${t.step} ${t.ms} ms</title></circle>`;
    })
    .join('');
  const faults = report.faults
    .map(
      (f) =>
        `<line x1="${x(f.firedAtS)}" x2="${x(f.firedAtS)}" y1="20" y2="${height - 25}" stroke="#555" stroke-dasharray="4"/><text x="${x(f.firedAtS) + 3}" y="16" font-size="10">${f.label}</text>`,
    )
    .join('');
  const summary = `${report.attendees} attendees, ${report.calls.succeeded}/${report.calls.attempted} steps ok, leaks ${report.leaks}, orders lost ${report.ordersLost}, doubled ${report.ordersDoubled}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>${faults}${dots}
<text x="60" y="${height - 8}" font-size="11">${summary}; x: seconds since start (0–${maxS})</text>
</svg>
`;
}
