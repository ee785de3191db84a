// Markdown for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY) from the JSON reports check-server and check-client
// write: one table per report, and for each failure the rule, what the target did and how to fix it.
//   node checks/src/ci-summary.ts [dir]   (dir: test-results/checks)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { counts, type Report } from './report.ts';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const MARK = { pass: '✅ pass', fail: '❌ fail', skip: '⏭️ skip' } as const;

/** One report as Markdown. */
export function reportMarkdown(report: Report): string {
  const tally = counts(report);
  const lines = [
    `### ${report.tool} \`${cell(report.target)}\``,
    '',
    `${tally.pass} passed, ${tally.fail} failed, ${tally.skip} skipped`,
    '',
    '| check | result | what |',
    '|---|---|---|',
    ...report.results.map((r) => `| \`${cell(r.id)}\` | ${MARK[r.status]} | ${cell(r.title)} |`),
  ];
  const failures = report.results.filter((r) => r.status === 'fail');
  if (failures.length > 0) lines.push('', '#### Failures');
  for (const r of failures)
    lines.push(
      '',
      `**\`${cell(r.id)}\`** ${cell(r.title)}`,
      `- rule: ${cell(r.rule)}`,
      `- observed: ${cell(r.observed ?? '')}`,
      `- fix: ${cell(r.fix ?? '')}`,
    );
  return lines.join('\n');
}

/** Every `*.json` report in `dir` as Markdown; says so when there is none. */
export function summaryMarkdown(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.json')) : [];
  const reports = files
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Report)
    .filter((report) => Array.isArray(report.results) && typeof report.tool === 'string');
  if (reports.length === 0) return `## MCP authorization checks\n\nNo reports in \`${dir}\`: did a check run?\n`;
  return ['## MCP authorization checks', '', ...reports.map(reportMarkdown), ''].join('\n\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(summaryMarkdown(process.argv[2] ?? 'test-results/checks'));
}
