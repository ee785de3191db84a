import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ZodError } from 'zod';
import { formatReport, toJUnit, type Report } from '../report.ts';
import { parseServerCheckArgs } from './options.ts';

describe('parseServerCheckArgs', () => {
  it('defaults to the make-up stack, alice, the sandbox step-up tool and test-results/checks', () => {
    const options = parseServerCheckArgs(['http://localhost:3000/mcp']);
    assert.equal(options.url, 'http://localhost:3000/mcp');
    assert.equal(options.keycloak, 'http://localhost:8080');
    assert.equal(options.issuer, 'http://localhost:8080/realms/sandbox');
    assert.equal(options.user.username, 'alice');
    assert.equal(options.stepUpTool, 'place_order');
    assert.equal(options.stepUpScope, 'trade:write');
    assert.deepEqual(options.stepUpArgs, { symbol: 'ACME', side: 'buy', quantity: 1 });
    assert.equal(options.out, 'test-results/checks');
    assert.equal(options.leewayS, 5);
  });

  it('takes the options, the issuer following --keycloak and --realm', () => {
    const options = parseServerCheckArgs([
      'https://mcp.example/v1/mcp',
      '--keycloak',
      'http://localhost:18080/',
      '--realm',
      'other',
      '--step-up-args',
      '{"symbol":"BOLT"}',
      '--user',
      'carol:secret',
      '--leeway-s',
      '30',
    ]);
    assert.equal(options.issuer, 'http://localhost:18080/realms/other');
    assert.deepEqual(options.stepUpArgs, { symbol: 'BOLT' });
    assert.deepEqual(options.user, { username: 'carol', password: 'secret' });
    assert.equal(options.leewayS, 30);
  });

  it('refuses a missing or non-http URL, naming what is expected', () => {
    assert.throws(
      () => parseServerCheckArgs([]),
      (e: unknown) => e instanceof ZodError && /MCP server URL/.test(e.message),
    );
    assert.throws(() => parseServerCheckArgs(['localhost:3000/mcp']), /must be an http\(s\) URL/);
  });

  it('refuses args that are not a JSON object, and unknown options', () => {
    assert.throws(() => parseServerCheckArgs(['http://x/mcp', '--step-up-args', '[1]']), /must be a JSON object/);
    assert.throws(() => parseServerCheckArgs(['http://x/mcp', '--nope']), /Unknown option '--nope'/);
    assert.throws(() => parseServerCheckArgs(['http://x/mcp', '--user', 'mallory']), /sandbox user/);
  });
});

describe('check-server verdicts in the report', () => {
  const report: Report = {
    tool: 'check-server',
    target: 'http://localhost:3000/mcp',
    startedAt: '2026-11-23T00:00:00.000Z',
    results: [
      { id: 'server.token.alg-none', title: 'alg none refused', status: 'pass', rule: 'RFC 8725 §3.1', durationMs: 3 },
      {
        id: 'server.token.wrong-audience',
        title: 'wrong audience refused',
        status: 'fail',
        rule: 'RFC 8707 §2 <aud>',
        observed: 'the server accepted the token: HTTP 200',
        fix: 'verify aud',
        durationMs: 40,
      },
      { id: 'server.scope.step-up', title: 'step-up', status: 'skip', rule: 'x', fix: 'no tool', durationMs: 1 },
    ],
  };

  it('prints each failure with its rule, what happened and the fix, and the totals', () => {
    const text = formatReport(report);
    assert.match(text, /FAIL {2}server\.token\.wrong-audience/);
    assert.match(text, /rule: {5}RFC 8707 §2 <aud>/);
    assert.match(text, /observed: the server accepted the token/);
    assert.match(text, /why: {6}no tool/);
    assert.match(text, /1 passed, 1 failed, 1 skipped$/);
  });

  it('writes JUnit with one failure and one skip, XML-escaped', () => {
    const xml = toJUnit(report);
    assert.match(xml, /<testsuites tests="3" failures="1" skipped="1"/);
    assert.match(xml, /<failure message="RFC 8707 §2 &lt;aud&gt;">/);
    assert.match(xml, /<skipped message="no tool"\/>/);
  });
});
