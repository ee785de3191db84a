import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import {
  Client as ClientV2,
  InMemoryTransport,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ALICE,
  LEGACY_VERSION,
  legacyRequest,
  mcpHeaders,
  MODERN_VERSION,
  modernRequest,
  NOW,
  RESOURCE,
  rpc,
  startTestApp,
  stopTestApp,
  type TestApp,
  type ToolCallResult,
} from '../testing.ts';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { createMcp, SERVER_INFO, toAuthInfo } from './handler.ts';
import { TOOLS } from './tools.ts';

const TOOL_NAMES = [
  'get_stock_info',
  'search_stocks',
  'get_portfolio',
  'place_order',
  'whoami',
  'greet',
  'get_datetime',
];
const EXPECTED_SCOPES: Record<string, string[]> = {
  get_stock_info: ['trade:read'],
  search_stocks: ['trade:read'],
  get_portfolio: ['portfolio:read'],
  place_order: ['trade:write'],
  whoami: [],
  greet: [],
  get_datetime: [],
};

interface ListedTool {
  name: string;
  _meta?: Record<string, unknown>;
  inputSchema: { type: string };
  annotations?: { readOnlyHint?: boolean };
}

function assertToolList(tools: readonly ListedTool[]): void {
  assert.deepEqual(tools.map((tool) => tool.name).sort(), [...TOOL_NAMES].sort());
  for (const tool of tools) {
    assert.deepEqual(tool._meta?.['sandbox/requiredScopes'], EXPECTED_SCOPES[tool.name], `scopes of ${tool.name}`);
    assert.equal(tool.inputSchema.type, 'object');
  }
}

/** A fetch for SDK clients that answers from the app in-process, adding the Host header a real connection carries. */
function inProcessFetch(t: TestApp, seen: Request[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    headers.set('host', 'localhost:3000');
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
    const forwarded = new Request(request.url, { method: request.method, headers, body });
    seen.push(forwarded.clone());
    return t.app.request(forwarded);
  }) as typeof fetch;
}

describe('toAuthInfo', () => {
  it('maps the principal onto the SDK AuthInfo with the token and request id', () => {
    const principal = {
      sub: ALICE,
      username: 'alice',
      clientId: 'mcp-cli',
      scopes: ['mcp:tools'],
      jti: 'j',
      exp: 123,
      tokenHash: 'abc',
      sessionId: 'session-1',
      machine: false,
      roles: undefined,
      tokenSha256: 'full-abc',
    };
    const info = toAuthInfo({ principal, token: 'tok', requestId: 'req-1' });
    assert.equal(info.token, 'tok');
    assert.equal(info.clientId, 'mcp-cli');
    assert.deepEqual(info.scopes, ['mcp:tools']);
    assert.equal(info.expiresAt, 123);
    assert.deepEqual(info.extra, { principal, requestId: 'req-1' });
    assert.equal(
      toAuthInfo({ principal: { ...principal, clientId: undefined }, token: 't', requestId: 'r' }).clientId,
      'unknown',
    );
  });
});

describe('createMcp', () => {
  let t: TestApp;
  let token: string;

  before(async () => {
    ({ t, token } = await startTestApp());
  });
  after(() => stopTestApp(t));

  it('registers every tool definition on the server it builds, with its scopes and annotations', async () => {
    const mcp = createMcp({
      stock: {
        call: () => {
          throw new Error('listing tools must not call the stock API');
        },
      },
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = mcp.buildServer();
    await server.connect(serverSide);
    const client = new ClientV2({ name: 'unit', version: '1' });
    await client.connect(clientSide);
    try {
      const { tools } = await client.listTools();
      assertToolList(tools as ListedTool[]);
      for (const tool of tools) {
        const definition = TOOLS.find((t) => t.name === tool.name);
        assert.equal(tool.annotations?.readOnlyHint, definition?.readOnly, `readOnlyHint of ${tool.name}`);
        assert.equal(tool.annotations?.destructiveHint, !definition?.readOnly, `destructiveHint of ${tool.name}`);
      }
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses a tool whose scope the token lacks even when called past the HTTP scope gate, on both paths (defence in depth)', async () => {
    const mcp = createMcp({
      stock: {
        call: () => {
          throw new Error('the stock API must not be called');
        },
      },
      logger: createLogger('silent'),
      metrics: createMetrics(),
    });
    const principal = {
      sub: ALICE,
      username: 'alice',
      clientId: 'mcp-cli',
      scopes: ['mcp:tools', 'trade:read'],
      jti: 'j',
      exp: 2_000_000_000,
      tokenHash: 'h',
      sessionId: 'session-1',
      machine: false,
      roles: undefined,
      tokenSha256: 'hh',
    };
    const auth = { principal, token: 'not-used', requestId: 'r1' };
    const args = { symbol: 'ACME', side: 'buy', quantity: 1 };
    for (const request of [
      legacyRequest('tools/call', { name: 'place_order', arguments: args }, { token }),
      modernRequest('tools/call', { name: 'place_order', arguments: args }, { token }),
    ]) {
      const body = JSON.parse(await request.clone().text()) as unknown;
      const viaSdk = await rpc<ToolCallResult>(await mcp.fetch(request, auth, body));
      const fast = await mcp.tryFast(request, body, auth);
      assert.ok(fast, 'the fast path should take this well-formed call');
      for (const [label, reply] of [
        ['SDK', viaSdk],
        ['fast path', await rpc<ToolCallResult>(fast)],
      ] as const) {
        assert.equal(reply.result?.isError, true, `${label}: ${JSON.stringify(reply)}`);
        assert.equal(reply.result?.content[0]?.text, 'Tool place_order needs scope trade:write.', label);
      }
    }
  });

  it('lists all 7 tools with their required scopes for a 2025-11-25 POST, as JSON', async () => {
    const response = await t.app.request(legacyRequest('tools/list', undefined, { token }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(response.headers.get('mcp-session-id'), null);
    const body = await rpc<{ tools: ListedTool[] }>(response);
    assertToolList(body.result?.tools ?? []);
  });

  it('answers a 2025-11-25 initialize without creating a session', async () => {
    const response = await t.app.request(
      legacyRequest(
        'initialize',
        { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'unit', version: '1' } },
        { token, headers: { 'mcp-protocol-version': LEGACY_VERSION } },
      ),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('mcp-session-id'), null);
    const body = await rpc<{ protocolVersion: string; serverInfo: { name: string } }>(response);
    assert.equal(body.result?.protocolVersion, LEGACY_VERSION);
    assert.equal(body.result?.serverInfo.name, SERVER_INFO.name);
  });

  it('lists all 7 tools for a 2026-07-28 POST with the _meta envelope and Mcp-Method', async () => {
    const response = await t.app.request(modernRequest('tools/list', {}, { token }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = await rpc<{ tools: ListedTool[] }>(response);
    assertToolList(body.result?.tools ?? []);
  });

  it('answers server/discover with 2026-07-28', async () => {
    const response = await t.app.request(modernRequest('server/discover', {}, { token }));
    const body = await rpc<{ supportedVersions: string[] }>(response);
    assert.deepEqual(body.result?.supportedVersions, [MODERN_VERSION]);
  });

  it('rejects a 2026-07-28 POST whose Mcp-Name does not match the body', async () => {
    const response = await t.app.request(
      modernRequest('tools/call', { name: 'greet', arguments: {} }, { token, headers: { 'mcp-name': 'whoami' } }),
    );
    assert.equal(response.status, 400);
  });

  it('calls a tool in both eras with the caller as principal', async () => {
    for (const request of [
      legacyRequest('tools/call', { name: 'whoami', arguments: {} }, { token }),
      modernRequest('tools/call', { name: 'whoami', arguments: {} }, { token }),
    ]) {
      const response = await t.app.request(request);
      assert.equal(response.status, 200);
      const result = (await rpc<ToolCallResult>(response)).result;
      assert.equal(result?.isError, undefined);
      assert.equal(result?.structuredContent?.sub, ALICE);
      assert.match(result?.content[0]?.text ?? '', /You are alice/);
    }
  });

  it('answers GET and DELETE with 405 (stateless, POST only)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await t.app.request(
        new Request(RESOURCE, {
          method,
          headers: mcpHeaders({ token, headers: { 'mcp-protocol-version': LEGACY_VERSION } }),
        }),
      );
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), 'POST');
    }
  });

  it('serves the v2 client pinned to 2026-07-28', async () => {
    const seen: Request[] = [];
    const client = new ClientV2(
      { name: 'unit-v2-pin', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    const transport = new TransportV2(new URL(RESOURCE), {
      fetch: inProcessFetch(t, seen),
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assertToolList(tools as ListedTool[]);
      const result = (await client.callTool({ name: 'get_datetime', arguments: {} })) as ToolCallResult;
      assert.equal(result.content[0]?.text, NOW.toISOString());
      const bad = (await client.callTool({ name: 'greet', arguments: { name: 42 } })) as ToolCallResult;
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
    assert.ok(seen.every((request) => request.headers.get('mcp-protocol-version') === MODERN_VERSION));
    assert.ok(
      seen.some(
        (request) =>
          request.headers.get('mcp-method') === 'tools/call' && request.headers.get('mcp-name') === 'get_datetime',
      ),
    );
  });

  it('serves the v2 client with its default 2025-11-25 negotiation', async () => {
    const seen: Request[] = [];
    const client = new ClientV2({ name: 'unit-v2', version: '1.0.0' });
    const transport = new TransportV2(new URL(RESOURCE), {
      fetch: inProcessFetch(t, seen),
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      assertToolList(tools as ListedTool[]);
      const result = (await client.callTool({ name: 'greet', arguments: { name: 'Bob' } })) as ToolCallResult;
      assert.match(result.content[0]?.text ?? '', /^Hello, Bob!/);
    } finally {
      await client.close();
    }
    assert.ok(seen.some((request) => request.headers.get('mcp-protocol-version') === LEGACY_VERSION));
  });

  it('serves the v1 SDK client over a real listener on 127.0.0.1', async () => {
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const client = new ClientV1({ name: 'unit-v1', version: '1.0.0' });
    // The v1 transport talks to 127.0.0.1, which the default ALLOWED_HOSTS accepts.
    const transport = new TransportV1(new URL(`http://127.0.0.1:${port}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assertToolList(tools as ListedTool[]);
      const result = (await client.callTool({ name: 'get_portfolio', arguments: {} })) as ToolCallResult;
      assert.equal(result.isError, undefined);
      assert.match(result.content[0]?.text ?? '', /ACME: 10 shares/);
    } finally {
      await client.close();
      (server as Server).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
