// A small room at once (scale/src): attendees created through the admin API sign in over HTTP through Keycloak's real
// forms with the real SDK v2 client (discovery, registration, PKCE), call tools, step up, and place an order that
// each approves on the approval device, all concurrently. `make scale N=40` runs the full room against `make up`.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keycloakAdmin, repoRoot } from '@sandbox/stack';
import { chartSvg, runScale } from '@sandbox/scale';
import { ensureAttendees } from '@sandbox/scale/users';
import { stack } from './harness/stack.ts';

const ROOM = 6;

describe(`a room of ${ROOM} attendees at once`, () => {
  it('every attendee gets through sign-in, tools, step-up and an approved order: no leak, no order lost or doubled', async () => {
    const { urls } = stack();
    const attendees = await ensureAttendees(keycloakAdmin(urls.keycloak), ROOM);
    const report = await runScale({
      mcp: urls.mcp,
      approvalDevice: urls.approvalDevice,
      stockApi: urls.stockApi,
      bigOrder: 8, // 8 ACME = 1,138.80 USD, above the e2e stacks' 1000 USD threshold
      attendees,
      staggerMs: 100,
    });
    const dir = join(repoRoot, 'test-results', 'scale');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(dir, 'chart.svg'), chartSvg(report));
    const failed = report.outcomes.flatMap((o) => o.steps.filter((s) => !s.ok));
    assert.deepEqual(failed, [], 'every step of every attendee succeeds');
    assert.equal(report.leaks, 0);
    assert.equal(report.ordersLost, 0);
    assert.equal(report.ordersDoubled, 0);
    const traders = attendees.filter((a) => a.trader).length;
    assert.equal(report.steps.approved_order?.succeeded, traders, 'each trader approved one large order');
    assert.equal(report.steps.viewer_refused?.succeeded, ROOM - traders, "each viewer's order was refused for good");
    for (const outcome of report.outcomes) assert.equal(outcome.sharesGained, outcome.sharesExpected, outcome.attendee);
    // One exchange per (user, scope) while the exchanged token lives (the cache works across the room).
    assert.ok(report.exchangesPerUserScope.max <= 2, JSON.stringify(report.exchangesPerUserScope));
  });
});
