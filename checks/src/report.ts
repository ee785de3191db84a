// One result format for every check (check-server, check-client): printed for people, JSON and JUnit XML for CI.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable identifier, e.g. "server.audience.wrong-audience-rejected". */
  id: string;
  /** One line, what is checked. */
  title: string;
  status: CheckStatus;
  /** What the spec requires, with where it says so (e.g. "MCP 2025-11-25 authorization §Token Handling: ... MUST ..."). */
  rule: string;
  /** What the target did (status, header, body excerpt; never a token). */
  observed?: string;
  /** How to fix it, for a failure; why, for a skip. */
  fix?: string;
  durationMs: number;
}

export interface Report {
  tool: 'check-server' | 'check-client';
  target: string;
  startedAt: string;
  results: CheckResult[];
}

export function counts(report: Report): Record<CheckStatus, number> {
  const tally = { pass: 0, fail: 0, skip: 0 };
  for (const result of report.results) tally[result.status] += 1;
  return tally;
}

const xml = (text: string) =>
  text.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!);

/** JUnit XML as CI systems read it: one testsuite per report, one testcase per check. */
export function toJUnit(report: Report): string {
  const tally = counts(report);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = report.results.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = report.results.map((r) => {
    const head = `    <testcase classname="${xml(report.tool)}" name="${xml(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}">`;
    if (r.status === 'pass') return `${head}</testcase>`;
    if (r.status === 'skip') return `${head}\n      <skipped message="${xml(r.fix ?? 'skipped')}"/>\n    </testcase>`;
    const body = [`rule: ${r.rule}`, `observed: ${r.observed ?? ''}`, `fix: ${r.fix ?? ''}`].join('\n');
    return `${head}\n      <failure message="${xml(r.rule)}">${xml(body)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${report.results.length}" failures="${tally.fail}" skipped="${tally.skip}" time="${seconds(total)}">`,
    `  <testsuite name="${xml(`${report.tool} ${report.target}`)}" tests="${report.results.length}" failures="${tally.fail}" skipped="${tally.skip}" timestamp="${xml(report.startedAt)}" time="${seconds(total)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** For people: one line per check, and for each failure what the rule is, what happened and how to fix it. */
export function formatReport(report: Report): string {
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;
  const lines = [`${report.tool} ${report.target}`];
  for (const r of report.results) {
    lines.push(`  ${mark[r.status]}  ${r.id}  ${r.title}`);
    if (r.status === 'fail') {
      lines.push(`        rule:     ${r.rule}`);
      if (r.observed) lines.push(`        observed: ${r.observed}`);
      if (r.fix) lines.push(`        fix:      ${r.fix}`);
    } else if (r.status === 'skip' && r.fix) lines.push(`        why:      ${r.fix}`);
  }
  const tally = counts(report);
  lines.push(`${tally.pass} passed, ${tally.fail} failed, ${tally.skip} skipped`);
  return lines.join('\n');
}

/** Writes `<name>.json` and `<name>.junit.xml` into `dir`; returns their paths. */
export function writeReport(report: Report, dir: string, name: string = report.tool): { json: string; junit: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const junit = join(dir, `${name}.junit.xml`);
  writeFileSync(json, `${JSON.stringify({ ...report, counts: counts(report) }, null, 2)}\n`);
  writeFileSync(junit, toJUnit(report));
  return { json, junit };
}
