// docs/workshop.md as an attendee follows it, on a fresh stack: sign in to the explorer as alice; `make call`
// (scripts/mcp-call.ts, signing in where it asks) shows up there with a cache miss, the same call again with a hit,
// get_stock_info with a new exchange for trade:read; then one lab with the workshop CLI (`make lab`, `lab-try`,
// `doctor`, `lab-reset`), and `make doctor REALM=…` on a realm export file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from '@sandbox/stack';
import { launchBrowser } from './harness/browser.ts';
import { newestCallId, newCallAfter, signInToExplorer, textOf } from './harness/explorer.ts';
import { mcpCall } from './harness/mcp-call.ts';
import { workshopCli } from './harness/workshop.ts';

const DOC = readFileSync(join(repoRoot, 'docs', 'workshop.md'), 'utf8');

const workshop = (...args: string[]) => workshopCli(args);

describe('docs/workshop.md, step by step', () => {
  let browser: Browser;
  let explorer: Page;
  let stateDir: string;
  before(async () => {
    browser = await launchBrowser();
    explorer = await (await browser.newContext()).newPage();
    stateDir = mkdtempSync(join(tmpdir(), 'workshop-'));
  });
  after(async () => {
    workshop('lab-reset');
    await browser?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('steps 2-5: the explorer shows each `make call` live: a miss, a hit, then a new exchange for another scope', async () => {
    assert.match(DOC, /make call TOOL=get_portfolio/);
    await signInToExplorer(explorer, 'alice');
    let shown = await newestCallId(explorer); // earlier suites' calls as alice are listed too
    const first = await mcpCall(browser, stateDir, 'get_portfolio', {});
    assert.equal(first.code, 0, first.output);
    assert.equal(first.signIns, 1);
    assert.match(first.output, /Portfolio of alice/);
    let call = await newCallAfter(explorer, shown);
    assert.match(await textOf(call.locator('h2')), /^get_portfolio succeeded/);
    assert.match(await textOf(call.locator('[data-field="cache"]')), /^miss/);
    assert.match(await textOf(call.locator('tr.differs', { hasText: 'stock-api' })), /^aud ?differs/);

    shown = await newestCallId(explorer);
    const again = await mcpCall(browser, stateDir, 'get_portfolio', {});
    assert.equal(again.signIns, 0, 'the stored token is reused');
    call = await newCallAfter(explorer, shown);
    assert.match(await textOf(call.locator('[data-field="cache"]')), /^hit/);

    assert.match(DOC, /make call TOOL=get_stock_info ARGS='\{"symbol":"ACME"\}'/);
    shown = await newestCallId(explorer);
    const quote = await mcpCall(browser, stateDir, 'get_stock_info', { symbol: 'ACME' });
    assert.equal(quote.code, 0, quote.output);
    call = await newCallAfter(explorer, shown);
    assert.match(await textOf(call.locator('h3')), /GET \/stocks\/ACME — scope trade:read/);
    assert.match(await textOf(call.locator('[data-field="cache"]')), /^miss/);
  });

  it('step 6: make lab lists the labs; one breaks, lab-try shows it, doctor names it, lab-reset fixes it', () => {
    const list = workshop('lab');
    assert.equal(list.code, 0, list.output);
    for (const name of ['audience-mapper', 'exchange-permission', 'trader-role'])
      assert.match(list.output, new RegExp(`^  ${name} `, 'm'));
    assert.equal(workshop('lab', 'audience-mapper').code, 0);
    assert.match(workshop('lab').output, /Now broken: audience-mapper/);
    assert.match(workshop('lab-try').output, /HTTP 401.*\n\s+→ the symptom of audience-mapper/);
    const doctor = workshop('doctor');
    assert.equal(doctor.code, 1, doctor.output);
    assert.match(doctor.output, /\[audience-mapper\]/);
    assert.equal(workshop('lab-reset').code, 0);
    const clean = workshop('doctor');
    assert.equal(clean.code, 0, clean.output);
    assert.match(workshop('lab').output, /Now broken: none/);
    assert.match(
      workshop('lab-try').output,
      /No lab applied .*\n.*audience-mapper: .*ok.*\n\s+→ as shipped: no symptom/,
    );
  });

  it("step 6, with the explorer open: lab-try's calls as alice show Keycloak's refusal of the exchange", async () => {
    const shown = await newestCallId(explorer);
    assert.equal(workshop('lab', 'exchange-permission').code, 0);
    try {
      assert.match(workshop('lab-try').output, /get_portfolio with a new token: tool error/);
      const call = await newCallAfter(explorer, shown);
      assert.match(await textOf(call.locator('h2')), /^get_portfolio failed/);
      assert.match(await textOf(call), /Keycloak refused the exchange \(\w+\)/);
      assert.match(await textOf(call.locator('[data-field="decision"]')), /not reached/);
    } finally {
      assert.equal(workshop('lab-reset').code, 0);
    }
  });

  it('step 7: make doctor REALM=<file> checks a realm export', () => {
    // As in the doc: no --mcp, so the file is checked for the MCP URL its placeholders default to.
    const file = join(repoRoot, 'keycloak', 'realm', 'sandbox-realm.json');
    const shipped = workshopCli(['doctor', '--realm', file], { stackArgs: false });
    assert.equal(shipped.code, 0, shipped.output);
    assert.match(shipped.output, /no findings/);
  });
});
