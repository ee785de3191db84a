// The README's human-approval walkthrough as written, at the e2e stacks' lower threshold: `make call`
// (scripts/mcp-call.ts, a real SDK v2 client with a CIMD client ID) places a large order; alice follows the printed
// sign-in URLs in Chromium (reading first, then the step-up), approves on her device page (signed in there), and the order shows in her
// portfolio on the next call, with no new sign-in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { arrives, decideOnDevice, type Device, signInOnDevice, summaryOf } from './harness/approval.ts';
import { launchBrowser } from './harness/browser.ts';
import { mcpCall } from './harness/mcp-call.ts';

describe('the README walkthrough: `make call` places a large order, the device shows it, a click approves it', () => {
  let browser: Browser;
  let stateDir: string;
  let device: Device;
  before(async () => {
    browser = await launchBrowser();
    stateDir = mkdtempSync(join(tmpdir(), 'mcp-call-'));
    // alice's phone: she signed in on her device (through the realm) before any order.
    device = await signInOnDevice(browser, 'alice');
  });
  after(async () => {
    await browser?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** `make call`, with alice signing in where it asks; `onPlacing` runs once the order is being placed. */
  async function call(tool: string, args: unknown, onPlacing?: () => Promise<void>) {
    let placing: Promise<void> | undefined;
    const run = await mcpCall(browser, stateDir, tool, args, {
      onOutput(output) {
        if (onPlacing && !placing && output.includes('Placing the order')) placing = onPlacing();
      },
    });
    await placing;
    return run;
  }

  it('signs in (reading, then the step-up), waits for the approval, and the order shows in the portfolio', async () => {
    const order = await call('place_order', { symbol: 'ACME', side: 'buy', quantity: 8 }, async () => {
      await arrives(device, summaryOf(8));
      await decideOnDevice(device, summaryOf(8), 'Approve', 'walkthrough');
    });
    assert.equal(order.code, 0, order.output);
    assert.equal(order.signIns, 2, `one sign-in to read, one step-up to trade:\n${order.output}`);
    assert.match(order.output, /Order ord_\S+: buy 8 ACME — filled \(approved on alice's device after \d+ s\)/);
    const portfolio = await call('get_portfolio', {});
    assert.equal(portfolio.code, 0, portfolio.output);
    assert.equal(portfolio.signIns, 0, 'the stored token is reused');
    assert.match(portfolio.output, /Portfolio of alice:\nACME: \d+ shares/);
  });
});
