// Real MCP clients nobody here wrote, as users install them (pinned in e2e/package.json), through Keycloak's real
// login in Chromium: mcp-remote (the stdio bridge desktop clients use). Each completes discovery → registration →
// login → tool calls with no realm edit; bob's order is refused once, finally, without sending him back to Keycloak.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchBrowser, signIn } from './harness/browser.ts';
import { stack } from './harness/stack.ts';

const require = createRequire(import.meta.url);
const MCP_REMOTE = require.resolve('mcp-remote/dist/proxy.js');
const MCP_REMOTE_VERSION = (require('mcp-remote/package.json') as { version: string }).version;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RemoteSession {
  client: Client;
  stderr: () => string;
  authorizationUrls: () => string[];
  close(): Promise<void>;
}

/** Starts `mcp-remote <MCP URL> <callback port>` over stdio and signs `user` in when it prints its authorization URL. */
async function connectThroughMcpRemote(browser: Browser, user: 'alice' | 'bob'): Promise<RemoteSession> {
  const configDir = mkdtempSync(join(tmpdir(), `mcp-remote-${user}-`));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, stack().urls.mcp, String(await freePort())],
    // The SDK merges these into its safe default environment (HOME, PATH, …); nothing else of ours is passed on.
    env: { MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'none' },
    stderr: 'pipe',
  });
  let log = '';
  const urls: string[] = [];
  let signedIn: Promise<void> = Promise.resolve();
  const context = await browser.newContext(); // no SSO cookie from another user's session
  const page = await context.newPage();
  transport.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    for (const match of log.matchAll(/Please authorize this client by visiting:\s*\n(\S+)/g)) {
      const url = match[1] as string;
      if (urls.includes(url)) continue;
      urls.push(url);
      const target = new URL(url);
      signedIn = signIn(page, target, user, page.waitForURL(/\/oauth\/callback/, { timeout: 30_000 }), (name) =>
        page.screenshot({ path: join(ARTIFACTS, `mcp-remote-${user}-${urls.length}-${name}.png`) }).then(() => {}),
      );
    }
  });
  const client = new Client({ name: `e2e-through-mcp-remote-${user}`, version: '1.0.0' });
  try {
    await client.connect(transport);
    await signedIn;
  } catch (error) {
    await context.close();
    throw new Error(`mcp-remote did not connect: ${String(error)}\n--- mcp-remote stderr ---\n${log.slice(-3000)}`, {
      cause: error,
    });
  }
  return {
    client,
    stderr: () => log,
    authorizationUrls: () => urls,
    async close() {
      await client.close();
      await context.close();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}

describe(`interop: mcp-remote ${MCP_REMOTE_VERSION} over stdio, signed in through Keycloak in Chromium`, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('registers with its own metadata, logs alice in, lists tools and calls them as alice', async () => {
    const session = await connectThroughMcpRemote(browser, 'alice');
    try {
      assert.equal(session.authorizationUrls().length, 1, session.stderr());
      const authorization = new URL(session.authorizationUrls()[0] as string);
      assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorization.searchParams.get('resource'), stack().urls.mcp);
      assert.match(authorization.searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/oauth\/callback$/);
      const tools = (await session.client.listTools()).tools.map((tool) => tool.name);
      assert.ok(tools.includes('place_order') && tools.includes('whoami'), tools.join(', '));
      const whoami = (await session.client.callTool({ name: 'whoami', arguments: {} })) as {
        content: Array<{ text?: string }>;
      };
      assert.match(whoami.content[0]?.text ?? '', /You are alice/);
      const quote = (await session.client.callTool({ name: 'get_stock_info', arguments: { symbol: 'ACME' } })) as {
        isError?: boolean;
        content: Array<{ text?: string }>;
      };
      assert.notEqual(quote.isError, true, quote.content[0]?.text);
      assert.match(quote.content[0]?.text ?? '', /ACME/);
    } finally {
      await session.close();
    }
  });

  it("refuses bob's place_order once, with a tool error naming the missing role, and no second sign-in", async () => {
    const session = await connectThroughMcpRemote(browser, 'bob');
    try {
      const order = (await session.client.callTool({
        name: 'place_order',
        arguments: { symbol: 'ACME', side: 'buy', quantity: 1 },
      })) as { isError?: boolean; content: Array<{ text?: string }> };
      assert.equal(order.isError, true);
      assert.match(order.content[0]?.text ?? '', /bob cannot use place_order: .*"trader"/);
      assert.equal(session.authorizationUrls().length, 1, 'mcp-remote was sent back to Keycloak');
    } finally {
      await session.close();
    }
  });
});
