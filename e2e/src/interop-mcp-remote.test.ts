// mcp-remote (the stdio bridge desktop clients use), installed as users install it (pinned in e2e/package.json), through
// Keycloak's real login in Chromium: discovery → registration → login → tool calls with no realm edit, alice's step-up
// to trade:write, and bob's order refused once, finally, without sending him back to Keycloak.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchBrowser, signIn } from './harness/browser.ts';
import { freePort } from './harness/cli.ts';
import { decodeClaims } from './harness/keycloak.ts';
import { BUY_ONE_ACME } from './harness/mcp-clients.ts';
import { stack } from './harness/stack.ts';

const require = createRequire(import.meta.url);
const MCP_REMOTE = require.resolve('mcp-remote/dist/proxy.js');
const MCP_REMOTE_VERSION = (require('mcp-remote/package.json') as { version: string }).version;

interface RemoteSession {
  client: Client;
  stderr: () => string;
  authorizationUrls: () => string[];
  /** The text of each consent page the user was shown. */
  consentPages: () => string[];
  /** The access token mcp-remote stored. */
  accessToken: () => string | undefined;
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
  const consents: string[] = [];
  let signedIn: Promise<void> = Promise.resolve();
  const context = await browser.newContext(); // no SSO cookie from another user's session
  transport.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    for (const match of log.matchAll(/Please authorize this client by visiting:\s*\n(\S+)/g)) {
      const url = match[1] as string;
      if (urls.includes(url)) continue;
      urls.push(url);
      const target = new URL(url);
      const n = urls.length;
      signedIn = signedIn
        // A fresh tab per URL: the last one still shows the previous callback URL, which waitForURL would match.
        .then(() => context.newPage())
        .then((page) =>
          signIn(page, target, user, page.waitForURL(/\/oauth\/callback/, { timeout: 30_000 }), (name) =>
            Promise.all([
              page.screenshot({ path: join(ARTIFACTS, `mcp-remote-${user}-${n}-${name}.png`) }),
              name === 'consent'
                ? page
                    .locator('body')
                    .innerText()
                    .then((text) => consents.push(text))
                : undefined,
            ]).then(() => {}),
          ),
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
    consentPages: () => consents,
    accessToken: () => {
      // mcp-remote keeps its tokens in <config dir>/mcp-remote-<version>/<hash>_tokens.json.
      const files = readdirSync(configDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith('_tokens.json'),
      );
      const file = files[0];
      return file
        ? (JSON.parse(readFileSync(join(configDir, file), 'utf8')) as { access_token?: string }).access_token
        : undefined;
    },
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
      // RFC 8707: mcp-remote sent resource=<MCP URL>, and Keycloak narrowed the token's aud to exactly it.
      assert.deepEqual([decodeClaims(session.accessToken() ?? '').aud].flat(), [stack().urls.mcp]);
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

  it('steps alice up: her first login asks only for reading; place_order sends her back once, and the order fills', async () => {
    const session = await connectThroughMcpRemote(browser, 'alice');
    try {
      const first = new URL(session.authorizationUrls()[0] as string).searchParams.get('scope') ?? '';
      assert.doesNotMatch(first, /trade:write/, `the first login already asked for trading: ${first}`);
      const order = (await session.client.callTool({ name: 'place_order', arguments: BUY_ONE_ACME }, undefined, {
        timeout: 90_000,
      })) as { isError?: boolean; content: Array<{ text?: string }> };
      assert.notEqual(order.isError, true, order.content[0]?.text);
      assert.match(order.content[0]?.text ?? '', /buy 1 ACME — filled/);
      assert.equal(session.authorizationUrls().length, 2, session.stderr());
      const stepUp = new URL(session.authorizationUrls()[1] as string).searchParams.get('scope') ?? '';
      assert.match(stepUp, /trade:write/, stepUp);
    } finally {
      await session.close();
    }
  });

  it("refuses bob's place_order once, with a tool error naming the missing role, and no second sign-in", async () => {
    const session = await connectThroughMcpRemote(browser, 'bob');
    try {
      const order = (await session.client.callTool({
        name: 'place_order',
        arguments: BUY_ONE_ACME,
      })) as { isError?: boolean; content: Array<{ text?: string }> };
      assert.equal(order.isError, true);
      assert.match(order.content[0]?.text ?? '', /bob cannot use place_order: .*"trader"/);
      assert.equal(session.authorizationUrls().length, 1, 'mcp-remote was sent back to Keycloak');
      // Keycloak's consent page lists what is requested without checking roles; bob is never led to request trading.
      assert.equal(session.consentPages().length, 1, session.stderr());
      assert.match(session.consentPages()[0] ?? '', /Read stock quotes/);
      assert.doesNotMatch(session.consentPages()[0] ?? '', /Place orders/);
    } finally {
      await session.close();
    }
  });
});
