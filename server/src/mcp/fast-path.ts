// Recognises the one request shape worth a fast path: a single, well-formed tools/call for a known tool, in a
// protocol version we serve, with every header and envelope field the SDK would check present and consistent.
// The checks are the SDK's own where it exports them (JSON content type, JSON-RPC request shape, era
// classification with the 2026-07-28 envelope); the rest are stricter than the SDK (exact header equality, no
// extra keys). When in doubt it returns undefined and the SDK handles the request (and any error answer).
// fast-path.test.ts proves, per protocol version, that the answers are byte-identical to the SDK's.
import { classifyInboundRequest, isJsonContentType, isJSONRPCRequest } from '@modelcontextprotocol/server';
import { TOOLS_BY_NAME, type ToolDefinition } from './tools.ts';

/** The 2025-era versions the fast path answers (the SDK serves older ones too; those go to it). */
export const LEGACY_VERSIONS: ReadonlySet<string> = new Set(['2025-06-18', '2025-11-25']);
export const MODERN_VERSION = '2026-07-28';
const ENVELOPE_KEYS: ReadonlySet<string> = new Set([
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientInfo',
  'io.modelcontextprotocol/clientCapabilities',
]);

export interface FastToolCall {
  era: 'legacy' | 'modern';
  id: string | number;
  tool: ToolDefinition;
  arguments: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const onlyKeys = (value: Record<string, unknown>, allowed: ReadonlySet<string>) =>
  Object.keys(value).every((key) => allowed.has(key));
const LEGACY_PARAMS: ReadonlySet<string> = new Set(['name', 'arguments']);
const MODERN_PARAMS: ReadonlySet<string> = new Set(['name', 'arguments', '_meta']);

/**
 * The fast-path view of a request, or undefined when the SDK must handle it.
 *
 *   fastToolCall(request.headers, JSON.parse(body))  // { era: 'legacy', id: 1, tool, arguments } | undefined
 */
export function fastToolCall(headers: Headers, body: unknown): FastToolCall | undefined {
  if (!isJsonContentType(headers.get('content-type'))) return undefined;
  // The SDK's JSON-RPC request guard: integer or string id, string method (1.5, 1e400 and null ids fail it).
  if (!isJSONRPCRequest(body) || body.method !== 'tools/call') return undefined;
  const params = body.params;
  if (!isObject(params) || typeof params.name !== 'string' || (typeof body.id === 'string' && body.id === ''))
    return undefined;
  const tool = TOOLS_BY_NAME.get(params.name);
  if (!tool || (params.arguments !== undefined && !isObject(params.arguments))) return undefined;
  const accept = headers.get('accept') ?? '';
  if (!accept.includes('application/json')) return undefined;
  const version = headers.get('mcp-protocol-version') ?? undefined;
  const route = classifyInboundRequest({
    httpMethod: 'POST',
    body,
    protocolVersionHeader: version,
    mcpMethodHeader: headers.get('mcp-method') ?? undefined,
    mcpNameHeader: headers.get('mcp-name') ?? undefined,
  });
  if (route.kind === 'legacy') {
    if (version === undefined || !LEGACY_VERSIONS.has(version) || !accept.includes('text/event-stream'))
      return undefined;
    if (!onlyKeys(params, LEGACY_PARAMS)) return undefined;
    return { era: 'legacy', id: body.id, tool, arguments: params.arguments };
  }
  if (route.kind === 'modern' && route.messageKind === 'request' && version === MODERN_VERSION) {
    if (headers.get('mcp-method') !== 'tools/call' || headers.get('mcp-name') !== params.name) return undefined;
    if (!onlyKeys(params, MODERN_PARAMS) || !isObject(params._meta) || !onlyKeys(params._meta, ENVELOPE_KEYS))
      return undefined;
    // place_order for a client that takes URL elicitation may be answered with an input-required result (a large
    // order's approval): only the SDK builds those.
    const capabilities = params._meta['io.modelcontextprotocol/clientCapabilities'];
    if (
      tool.name === 'place_order' &&
      isObject(capabilities) &&
      isObject(capabilities.elicitation) &&
      capabilities.elicitation.url !== undefined
    )
      return undefined;
    return { era: 'modern', id: body.id, tool, arguments: params.arguments };
  }
  return undefined;
}
