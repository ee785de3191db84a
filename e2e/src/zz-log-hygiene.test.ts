// Runs last (files run in alphabetical order, one at a time): no log line of the MCP server or the stock API holds
// a token the security suites used, or anything shaped like a JWT. Every token those suites obtained or forged went
// through harness/forge.ts, which recorded it in .run/<name>/tokens-used.txt.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { recordedTokens } from './harness/forge.ts';
import { canSignal, logFile } from './harness/processes.ts';
import { JWT_SHAPE } from './harness/refusals.ts';

const SERVICES = ['mcp-server', 'stock-api'] as const;

function logLines(service: (typeof SERVICES)[number]): string[] {
  const file = logFile(service);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('log hygiene', { skip: canSignal() ? false : 'needs the native provider (reads .run/<name>/logs)' }, () => {
  for (const service of SERVICES) {
    it(`finds no token used in this run in the ${service} log`, () => {
      const lines = logLines(service);
      assert.ok(lines.length > 0, `${logFile(service)} is empty`);
      const tokens = recordedTokens();
      assert.ok(tokens.length >= 20, `only ${tokens.length} tokens were recorded: did the security suites run first?`);
      // Whole tokens, and each token's signature (a part no legitimate log field would contain).
      const needles = [...new Set(tokens.flatMap((t) => [t, t.split('.')[2] ?? ''].filter((s) => s.length >= 20)))];
      for (const [n, line] of lines.entries()) {
        for (const needle of needles) assert.ok(!line.includes(needle), `${service}.log line ${n + 1} contains a token used in the run`);
      }
    });

    it(`finds nothing JWT-shaped in the ${service} log`, () => {
      const offending = logLines(service).map((line, n) => ({ n: n + 1, line })).filter(({ line }) => JWT_SHAPE.test(line));
      assert.deepEqual(offending.map(({ n }) => n), [], `${service}.log has JWT-shaped text`);
    });
  }
});
