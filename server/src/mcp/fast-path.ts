// Recognises the one request shape worth a fast path: a single, well-formed tools/call for a known tool, in a
// protocol version we serve, with every header and envelope field the SDK would check present and consistent.
// When in doubt it returns undefined and the SDK handles the request (and any error answer).
import { TOOLS_BY_NAME, type ToolDefinition } from './tools.ts';

export const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['2025-06-18', '2025-11-25']);
export const MODERN_VERSION = '2026-07-28';
const ENVELOPE_VERSION = 'io.modelcontextprotocol/protocolVersion';
const ENVELOPE_CLIENT = 'io.modelcontextprotocol/clientInfo';
const ENVELOPE_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

export interface FastToolCall { era: 'legacy' | 'modern'; id: string | number; tool: ToolDefinition; arguments: unknown }

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function fastToolCall(headers: Headers, body: unknown): FastToolCall | undefined {
  if (!isObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  const id = body.id;
  if (typeof id !== 'number' && (typeof id !== 'string' || id === '')) return undefined;
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string') return undefined;
  const tool = TOOLS_BY_NAME.get(params.name);
  if (!tool) return undefined;
  if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
  if (!(headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) return undefined;
  const accept = headers.get('accept') ?? '';
  if (!accept.includes('application/json')) return undefined;
  const version = headers.get('mcp-protocol-version');
  const meta = params._meta;
  if (version !== null && LEGACY_VERSIONS.has(version)) {
    if (!accept.includes('text/event-stream')) return undefined;
    if (isObject(meta) && ENVELOPE_VERSION in meta) return undefined;
    if (Object.keys(params).some((key) => key !== 'name' && key !== 'arguments')) return undefined;
    return { era: 'legacy', id, tool, arguments: params.arguments };
  }
  if (version === MODERN_VERSION) {
    if (headers.get('mcp-method') !== 'tools/call' || headers.get('mcp-name') !== params.name) return undefined;
    if (!isObject(meta) || meta[ENVELOPE_VERSION] !== MODERN_VERSION) return undefined;
    const client = meta[ENVELOPE_CLIENT];
    if (!isObject(client) || typeof client.name !== 'string' || typeof client.version !== 'string' || !isObject(meta[ENVELOPE_CAPABILITIES])) return undefined;
    if (Object.keys(meta).some((key) => key !== ENVELOPE_VERSION && key !== ENVELOPE_CLIENT && key !== ENVELOPE_CAPABILITIES)) return undefined;
    if (Object.keys(params).some((key) => key !== 'name' && key !== 'arguments' && key !== '_meta')) return undefined;
    return { era: 'modern', id, tool, arguments: params.arguments };
  }
  return undefined;
}
