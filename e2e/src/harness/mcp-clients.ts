// Real MCP SDK clients of both lines, connected with a bearer token, one per protocol version we serve.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { stack } from './stack.ts';

/** The smallest order: what alice's step-up and bob's refusal are tested with. */
export const BUY_ONE_ACME = { symbol: 'ACME', side: 'buy', quantity: 1 };

export type ClientLine = 'v2 @ 2026-07-28' | 'v2 @ 2025-11-25' | 'v2 @ 2025-06-18' | 'v1 @ 2025-11-25';
export const CLIENT_LINES: readonly ClientLine[] = [
  'v2 @ 2026-07-28',
  'v2 @ 2025-11-25',
  'v2 @ 2025-06-18',
  'v1 @ 2025-11-25',
];

export interface ToolCallResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface ConnectedClient {
  line: ClientLine;
  listTools(): Promise<Array<{ name: string; _meta?: Record<string, unknown> }>>;
  /** `onprogress` (SDK v2 lines): sends a progressToken and receives the server's progress notifications. */
  callTool(
    name: string,
    args?: Record<string, unknown>,
    options?: { onprogress?: (progress: { progress: number; message?: string }) => void },
  ): Promise<ToolCallResult>;
  protocolVersion(): string | undefined;
  close(): Promise<void>;
}

export async function connect(line: ClientLine, token: string): Promise<ConnectedClient> {
  const url = new URL(stack().urls.mcp);
  const requestInit = { headers: { authorization: `Bearer ${token}` } };
  const info = { name: `e2e-${line.replace(/\W+/g, '-')}`, version: '1.0.0' };
  if (line.startsWith('v1')) {
    const client = new ClientV1(info);
    const transport = new TransportV1(url, { requestInit });
    await client.connect(transport);
    return {
      line,
      listTools: async () => (await client.listTools()).tools,
      callTool: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as ToolCallResult,
      protocolVersion: () => transport.protocolVersion,
      close: () => client.close(),
    };
  }
  const options =
    line === 'v2 @ 2026-07-28'
      ? { versionNegotiation: { mode: { pin: '2026-07-28' } } }
      : { supportedProtocolVersions: [line === 'v2 @ 2025-11-25' ? '2025-11-25' : '2025-06-18'] };
  const client = new ClientV2(info, options as never);
  let lastVersion: string | undefined;
  const transport = new TransportV2(url, {
    requestInit,
    fetch: async (input, init) => {
      lastVersion = new Headers(init?.headers).get('mcp-protocol-version') ?? lastVersion;
      return fetch(input, init);
    },
  });
  await client.connect(transport);
  return {
    line,
    listTools: async () => (await client.listTools()).tools,
    callTool: async (name, args = {}, callOptions) =>
      (await client.callTool({ name, arguments: args }, callOptions as never)) as ToolCallResult,
    protocolVersion: () => lastVersion,
    close: () => client.close(),
  };
}

/** A raw JSON-RPC POST in the 2025-11-25 shape, for asserting status codes and challenges. */
export async function rawPost(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(stack().urls.mcp, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export function toolCall(name: string, args: Record<string, unknown> = {}, id = 1): unknown {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** The MCP server's GET /metrics counters (server/src/metrics.ts) and its cache skew. */
export type ServerMetrics = Record<
  | 'exchanges'
  | 'exchangeErrors'
  | 'cacheHits'
  | 'cacheMisses'
  | 'singleFlightJoins'
  | 'redisErrors'
  | 'toolCalls'
  | 'fastPathCalls'
  | 'toolErrors'
  | 'downstreamCalls'
  | 'cacheSkewSeconds',
  number
>;

export async function metrics(): Promise<ServerMetrics> {
  return (await (await fetch(`${stack().urls.mcpOrigin}/metrics`)).json()) as ServerMetrics;
}
