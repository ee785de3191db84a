// SDK OAuth sessions driven through Chromium: one shape for the SDK v1 and v2 clients (connect, on
// UnauthorizedError finish auth from the loopback callback, connect again), and a fresh browser profile per test.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as V2 from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError as UnauthorizedErrorV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Browser, BrowserContext } from 'playwright-core';
import { ARTIFACTS, startCallbackServer, type BrowserOAuthProvider, type CallbackServer } from './browser.ts';
import { stack } from './stack.ts';

export type Line = 'v1 @ 2025-11-25' | 'v2 @ 2026-07-28';
export interface Session {
  callTool(
    name: string,
    args?: Record<string, unknown>,
  ): Promise<{ structuredContent?: Record<string, unknown>; isError?: boolean }>;
  listTools(): Promise<Array<{ name: string }>>;
  close(): Promise<void>;
  finishAuth(callback: URL): Promise<void>;
}

export function makeSession(line: Line, provider: BrowserOAuthProvider, fetchFn?: typeof fetch): Session {
  const url = new URL(stack().urls.mcp);
  if (line.startsWith('v1')) {
    const client = new ClientV1({ name: 'e2e-browser-v1', version: '1.0.0' });
    const transport = new TransportV1(url, { authProvider: provider as never });
    return {
      async listTools() {
        await ensureConnected();
        return (await client.listTools()).tools;
      },
      async callTool(name, args = {}) {
        await ensureConnected();
        return (await client.callTool({ name, arguments: args })) as never;
      },
      close: () => client.close(),
      finishAuth: (callback) => transport.finishAuth(callback.searchParams.get('code') ?? ''),
    };
    async function ensureConnected() {
      if (!client.transport) await client.connect(transport);
    }
  }
  const client = new V2.Client({ name: 'e2e-browser-v2', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  } as never);
  const transport = new V2.StreamableHTTPClientTransport(url, {
    authProvider: provider as never,
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
  let connected = false;
  const ensureConnected = async () => {
    if (!connected) {
      await client.connect(transport);
      connected = true;
    }
  };
  return {
    async listTools() {
      await ensureConnected();
      return (await client.listTools()).tools;
    },
    async callTool(name, args = {}) {
      await ensureConnected();
      return (await client.callTool({ name, arguments: args })) as never;
    },
    close: () => client.close(),
    finishAuth: (callback) => transport.finishAuth(callback.searchParams),
  };
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof V2.UnauthorizedError || error instanceof UnauthorizedErrorV1;
}

/** Connects, and on the SDK's UnauthorizedError (it already drove the browser) finishes auth and connects again. */
export async function authorizeAndList(
  line: Line,
  provider: BrowserOAuthProvider,
  fetchFn?: typeof fetch,
): Promise<Session> {
  let session = makeSession(line, provider, fetchFn);
  try {
    await session.listTools();
    throw new Error('expected the first connection to need authorization');
  } catch (error) {
    if (!isUnauthorized(error)) throw error;
  }
  assert.ok(provider.lastCallback, 'the browser never reached the loopback callback');
  await session.finishAuth(provider.lastCallback);
  session = makeSession(line, provider, fetchFn);
  return session;
}

/** A fresh browser profile and loopback callback per test; a Playwright trace is saved when the test fails. */
export async function inContext<T>(
  browser: Browser,
  name: string,
  fn: (context: BrowserContext, callback: CallbackServer) => Promise<T>,
): Promise<T> {
  const context = await browser.newContext();
  const callback = await startCallbackServer();
  await context.tracing.start({ screenshots: true, snapshots: true });
  try {
    const result = await fn(context, callback);
    await context.tracing.stop();
    return result;
  } catch (error) {
    await context.tracing.stop({ path: join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '_')}-trace.zip`) });
    throw error;
  } finally {
    await context.close();
    await callback.close();
  }
}
