// Runs last (files run in alphabetical order, one at a time): no log line of the MCP server or the stock API holds
// a token the security suites used, or anything shaped like a JWT. Every token those suites obtained or forged went
// through harness/forge.ts, which recorded it in .run/<name>/tokens-used.txt. Logs: .run/<name>/logs (native) or
// `docker logs` of each container (compose).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { recordedTokens } from './harness/forge.ts';
import { canControl, serviceLog } from './harness/processes.ts';
import { skippable } from './harness/skippable.ts';
import { JWT_SHAPE } from './harness/refusals.ts';

const SERVICES = ['mcp-server', 'stock-api'] as const;

function logLines(service: (typeof SERVICES)[number]): string[] {
  return serviceLog(service).text.split('\n').filter(Boolean);
}

describe('log hygiene', () => {
  const { it } = skippable(
    canControl() ? false : 'needs the service logs of a stack started by make test (native or compose)',
  );
  for (const service of SERVICES) {
    it(`finds no token used in this run in the ${service} log`, () => {
      const lines = logLines(service);
      assert.ok(lines.length > 0, `${serviceLog(service).where} is empty`);
      const tokens = recordedTokens();
      assert.ok(tokens.length >= 20, `only ${tokens.length} tokens were recorded: did the security suites run first?`);
      // Whole tokens, and each token's signature (a part no legitimate log field would contain).
      const needles = [...new Set(tokens.flatMap((t) => [t, t.split('.')[2] ?? ''].filter((s) => s.length >= 20)))];
      for (const [n, line] of lines.entries()) {
        for (const needle of needles)
          assert.ok(!line.includes(needle), `${service} log line ${n + 1} contains a token used in the run`);
      }
    });

    it(`finds nothing JWT-shaped in the ${service} log`, () => {
      const offending = logLines(service)
        .map((line, n) => ({ n: n + 1, line }))
        .filter(({ line }) => JWT_SHAPE.test(line));
      assert.deepEqual(
        offending.map(({ n }) => n),
        [],
        `${service} log has JWT-shaped text`,
      );
    });
  }
});
