// Two replicas of the MCP server, sharing only what the deployment gives them: Redis and STATE_KEY. The stack's own
// server is replica A; the suite starts replica B (same configuration, another port). A request may land on either
// at any step: a URL-elicitation round trip starts on A and ends on B, and an explorer sign-in starts on B, completes
// on A, and then both show the same session and the calls either served. Native provider only: replica B runs on the
// host and needs the stack's Redis, which the compose file does not publish.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { Browser } from 'playwright-core';
import { nodeServiceEnv, repoRoot, SANDBOX_USERS } from '@sandbox/stack';
import { ALL_SCOPES, decideOnDevice, signInOnDevice, type Device } from './harness/approval.ts';
import { launchBrowser } from './harness/browser.ts';
import { userToken } from './harness/keycloak.ts';
import { skippable } from './harness/skippable.ts';
import { stack } from './harness/stack.ts';

const NATIVE_ONLY = stack().provider === 'native' ? false : 'native provider only: replica B needs the stack Redis';
const VERSION = '2026-07-28';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A 2026-07-28 tools/call from a client that takes URL elicitation, sent to one replica. */
async function callOn(origin: string, token: string, args: Record<string, unknown>, extra = {}) {
  const response = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: {
      host: new URL(stack().urls.mcp).host,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      'mcp-method': 'tools/call',
      'mcp-name': 'place_order',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'place_order',
        arguments: args,
        ...extra,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': VERSION,
          'io.modelcontextprotocol/clientInfo': { name: 'e2e-replicas', version: '1.0.0' },
          'io.modelcontextprotocol/clientCapabilities': { elicitation: { url: {} } },
        },
      },
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as {
    result?: { resultType?: string; requestState?: string; structuredContent?: { order?: { approvedBy?: string } } };
  };
}

describe('two MCP server replicas: any step may land on either', () => {
  const { it, before, after } = skippable(NATIVE_ONLY);
  let replicaB: ChildProcess;
  let originB: string;
  let browser: Browser;
  let device: Device;
  let log = '';

  before(async () => {
    const { name, ports } = stack();
    const port = await freePort();
    originB = `http://localhost:${port}`;
    replicaB = spawn(process.execPath, [join(repoRoot, 'server', 'src', 'main.ts')], {
      // The stack's own server environment (the same Redis, prefix and STATE_KEY), on another port.
      env: { PATH: process.env.PATH, ...nodeServiceEnv({ name, ports }).mcp, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    replicaB.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    replicaB.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${originB}/healthz`).catch(() => undefined))?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    browser = await launchBrowser();
    device = await signInOnDevice(browser, 'alice');
  });
  after(async () => {
    replicaB?.kill('SIGTERM');
    await browser?.close();
  });

  it('a URL-elicitation round trip starts on replica A and completes on replica B', async () => {
    const alice = await userToken('alice', ALL_SCOPES);
    const metricsB = async () =>
      (await (await fetch(`${originB}/metrics`)).json()) as { replica: { pid: number }; toolCalls: number };
    const before = await metricsB();
    assert.equal(before.replica.pid, replicaB.pid, 'replica B answers its own metrics');
    const first = await callOn(stack().urls.mcpOrigin, alice, { symbol: 'ACME', side: 'buy', quantity: 11 });
    assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
    await decideOnDevice(device, 'Buy 11 ACME at 142.35 USD total 1565.85', 'Approve', 'replicas');
    const second = await callOn(
      originB,
      alice,
      { symbol: 'ACME', side: 'buy', quantity: 11 },
      { inputResponses: { approve: { action: 'accept' } }, requestState: first.result?.requestState },
    );
    assert.equal(second.result?.structuredContent?.order?.approvedBy, 'ciba', `${JSON.stringify(second)}\n${log}`);
    assert.equal((await metricsB()).toolCalls, before.toolCalls + 1, 'the second round was served by replica B');
  });

  it('an explorer sign-in started on replica B completes on replica A; both then show the session and its calls', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      // B builds the authorization request; Keycloak sends the browser back to the registered callback, on A.
      await page.goto(`${originB}/explorer/login`);
      await page.locator('#username').waitFor({ timeout: 20_000 });
      await page.fill('#username', 'bob');
      await page.fill('#password', SANDBOX_USERS.find((u) => u.username === 'bob')?.password ?? '');
      await page.click('#kc-login');
      await page.waitForURL(`${stack().urls.mcpOrigin}/explorer`, { timeout: 20_000 });
      // The same cookie (cookies do not separate ports) names a session both replicas find in Redis.
      assert.equal((await page.request.get(`${stack().urls.mcpOrigin}/explorer/calls`)).status(), 200);
      assert.equal((await page.request.get(`${originB}/explorer/calls`)).status(), 200, 'B does not know the session');
      await page.goto(`${originB}/explorer`);
      assert.match(await page.locator('#who').innerText(), /bob/, 'replica B does not know the session');
      // A call bob makes through replica B shows on replica A's page.
      const bob = await userToken('bob', 'mcp:tools portfolio:read trade:read');
      const call = await fetch(`${originB}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bob}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'get_portfolio', arguments: {} },
        }),
      });
      assert.equal(call.status, 200);
      await page.goto(`${stack().urls.mcpOrigin}/explorer`);
      const fragment = await (await page.request.get(`${stack().urls.mcpOrigin}/explorer/calls`)).text();
      assert.match(fragment, /get_portfolio/, 'the call replica B served is not on replica A');
    } finally {
      await context.close();
    }
  });
});
