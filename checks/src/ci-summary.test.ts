import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { summaryMarkdown } from './ci-summary.ts';
import { writeReport, type Report } from './report.ts';

const report: Report = {
  tool: 'check-server',
  target: 'http://localhost:3100/mcp',
  startedAt: '2026-11-23T12:00:00.000Z',
  results: [
    {
      id: 'server.prm.served',
      title: 'serves protected-resource metadata',
      status: 'pass',
      rule: 'RFC 9728',
      durationMs: 5,
    },
    {
      id: 'server.audience.wrong-audience-rejected',
      title: 'rejects a token | for another audience',
      status: 'fail',
      rule: 'MCP authorization: servers MUST validate the audience',
      observed: '200 OK',
      fix: 'check aud against your resource URL',
      durationMs: 7,
    },
  ],
};

describe('summaryMarkdown', () => {
  it('tables each report written by writeReport and spells out its failures', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ci-summary-'));
    writeReport(report, dir);
    const markdown = summaryMarkdown(dir);
    assert.match(markdown, /### check-server `http:\/\/localhost:3100\/mcp`/);
    assert.match(markdown, /1 passed, 1 failed, 0 skipped/);
    assert.match(markdown, /\| `server.prm.served` \| ✅ pass \|/);
    assert.match(markdown, /rejects a token \\\| for another audience/, 'a | in a title breaks the table');
    assert.match(markdown, /- rule: MCP authorization: servers MUST validate the audience/);
    assert.match(markdown, /- fix: check aud against your resource URL/);
  });

  it('says that no check ran when the directory has no report', () => {
    assert.match(summaryMarkdown(join(tmpdir(), 'no-such-dir-ci-summary')), /No reports in/);
  });
});
