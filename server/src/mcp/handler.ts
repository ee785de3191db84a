// MCP framing from the official SDK (v2): one handler created at startup. 2026-07-28 requests go to the
// stateless modern path; 2025-era requests (2025-06-18, 2025-11-25) to a per-request stateless transport that
// answers JSON instead of SSE. No sessions in either era, so there is no session id to steal or bind.
import {
  createMcpHandler,
  createRequestStateCodec,
  isLegacyRequest,
  McpServer,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Approver, PendingApproval } from '../approval/ciba.ts';
import type { Principal } from '../auth/verify.ts';
import type { StockApi } from '../downstream/stock-api.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { machineRefusalText, missingScopes, roleRefusalText, unobtainableScopes } from '../auth/scopes.ts';
import type { CallRecorder } from '../explorer/recorder.ts';
import { fastToolCall } from './fast-path.ts';
import { TOOLS, toolError, type ToolContext, type ToolDefinition, type ToolResult } from './tools.ts';

export const SERVER_INFO = { name: 'mcp-keycloak-sandbox', version: '0.1.0' } as const;

export interface McpDeps {
  stock: StockApi;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
  approver?: Approver;
  /**
   * Where users decide on approvals (the approval device's public URL). With it, 2026-07-28 clients that take URL
   * elicitation are pointed there by an input-required result; without it, every approval waits inside the call.
   */
  approvalDeviceUrl?: string;
  /** HMAC key (at least 32 bytes) for the multi-round-trip requestState; needed with approvalDeviceUrl. */
  requestStateKey?: string;
  /** The workshop explorer's recorder: notes each call's exchange and stock API trips for its user. */
  recorder?: CallRecorder;
}
export interface RequestAuth {
  principal: Principal;
  token: string;
  requestId: string;
}

export function toAuthInfo(auth: RequestAuth): AuthInfo {
  return {
    token: auth.token,
    clientId: auth.principal.clientId ?? 'unknown',
    scopes: [...auth.principal.scopes],
    expiresAt: auth.principal.exp,
    extra: { principal: auth.principal, requestId: auth.requestId },
  };
}

/**
 * MCP framing for both eras (SDK v2) and the fast path, around one shared runTool.
 *
 *   const mcp = createMcp({ stock, logger, metrics });
 *   const response = (await mcp.tryFast(request, parsed, auth)) ?? (await mcp.fetch(request, auth, parsed));
 */
export function createMcp(deps: McpDeps) {
  const now = deps.now ?? (() => new Date());
  // requestState round-trips through the client: signed, short-lived, and bound to the user and the method.
  const stateCodec =
    deps.approvalDeviceUrl && deps.requestStateKey
      ? createRequestStateCodec<PendingApproval>({
          key: deps.requestStateKey,
          ttlSeconds: 300,
          bind: (ctx) => {
            const extra = ctx.http?.authInfo?.extra as { principal?: Principal } | undefined;
            return `${ctx.mcpReq.method}\0${extra?.principal?.sub ?? ''}`;
          },
        })
      : undefined;

  /** One tool call, shared by the SDK path and the fast path so both behave identically. */
  async function runTool(
    tool: ToolDefinition,
    args: unknown,
    auth: { principal: Principal; requestId: string },
    token: string,
    call: Pick<ToolContext, 'reportProgress' | 'signal' | 'elicitation'> = {},
  ): Promise<ToolResult> {
    const refusedMachine = machineRefusalText(tool, auth.principal);
    if (refusedMachine)
      return {
        isError: true,
        content: [{ type: 'text', text: refusedMachine }],
        structuredContent: { error: 'user_required', tool: tool.name },
      };
    // Defence in depth: app.ts already answered 403 for a missing scope; never run a tool without its scopes.
    const missing = missingScopes(auth.principal.scopes, tool.requiredScopes);
    const blocked = unobtainableScopes(missing, auth.principal.roles);
    if (blocked.length) {
      const who = auth.principal.username ?? auth.principal.sub;
      return {
        isError: true,
        content: [{ type: 'text', text: roleRefusalText(tool.name, who, blocked, auth.principal.roles ?? []) }],
        structuredContent: { error: 'missing_role', tool: tool.name, missing: blocked },
      };
    }
    if (missing.length)
      return {
        isError: true,
        content: [{ type: 'text' as const, text: `Tool ${tool.name} needs scope ${missing.join(' ')}.` }],
      };
    // What the log line reports about the exchange: cache hit/miss/joined and Keycloak's latency on a miss.
    const trace: { cache?: string; exchangeMs?: number } = {};
    const recording = deps.recorder?.begin({
      tool: tool.name,
      requestId: auth.requestId,
      principal: auth.principal,
      token,
    });
    const traced: StockApi = {
      call: async (call) => {
        const response = await deps.stock.call(call);
        trace.cache = response.exchange.cache;
        trace.exchangeMs = response.exchange.exchangeMs;
        return response as never;
      },
    };
    const stock = recording ? recording.wrap(traced) : traced;
    /** The explorer's note of this call: never allowed to change the call's outcome. */
    const endRecording = (outcome: 'ok' | 'error', text?: string) => {
      try {
        recording?.end(outcome, text);
      } catch (error) {
        deps.logger.log('warn', 'explorer could not record a call', { message: (error as Error).message });
      }
    };
    const toolCtx: ToolContext = {
      principal: auth.principal,
      subjectToken: token,
      stock,
      logger: deps.logger,
      requestId: auth.requestId,
      now,
      ...(deps.approver ? { approver: deps.approver } : {}),
      ...call,
    };
    deps.metrics.toolCalls += 1;
    const started = performance.now();
    try {
      const result = await tool.run(args as never, toolCtx);
      endRecording(result.isError ? 'error' : 'ok', result.isError ? result.content[0]?.text : undefined);
      deps.logger.log('info', 'tool call', {
        requestId: auth.requestId,
        sub: auth.principal.sub,
        jti: auth.principal.jti,
        tool: tool.name,
        ms: Math.round(performance.now() - started),
        ...trace,
      });
      return result;
    } catch (error) {
      deps.metrics.toolErrors += 1;
      const result = toolError(error);
      endRecording('error', result?.content[0]?.text ?? `Internal error (request id ${auth.requestId}).`);
      deps.logger.log('warn', 'tool error', {
        requestId: auth.requestId,
        sub: auth.principal.sub,
        jti: auth.principal.jti,
        tool: tool.name,
        ...trace,
        error: (error as Error).name,
        code: (error as { code?: string }).code,
        message: (error as Error).message,
      });
      if (result) return result;
      // A bug, not a domain failure: the client gets the request id, the log gets the details.
      deps.logger.log('error', 'tool crashed', {
        requestId: auth.requestId,
        tool: tool.name,
        stack: (error as Error).stack,
      });
      return {
        isError: true,
        content: [
          {
            type: 'text' as const,
            text: `Internal error in ${tool.name}; the server log has details under request id ${auth.requestId}.`,
          },
        ],
      };
    }
  }

  function buildServer(): McpServer {
    const server = new McpServer(SERVER_INFO, {
      instructions: 'Fictional stock market tools. Each tool names the OAuth scope it needs; call whoami to see yours.',
      ...(stateCodec ? { requestState: { verify: stateCodec.verify } } : {}),
    });
    for (const tool of TOOLS) {
      server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          annotations: { readOnlyHint: tool.readOnly, destructiveHint: !tool.readOnly, openWorldHint: false },
          _meta: { 'sandbox/requiredScopes': tool.requiredScopes },
        },
        async (args: unknown, ctx) => {
          const extra = ctx.http?.authInfo?.extra as { principal: Principal; requestId: string } | undefined;
          const token = ctx.http?.authInfo?.token;
          if (!extra || !token) throw new Error('tool called without authentication (bearer middleware missing)');
          // A client that sent a progressToken hears how a long call (an order awaiting approval) is going.
          const progressToken = ctx.mcpReq._meta?.progressToken;
          let progress = 0;
          const reportProgress =
            progressToken === undefined
              ? undefined
              : (message: string) =>
                  ctx.mcpReq.notify({
                    method: 'notifications/progress',
                    params: { progressToken, progress: (progress += 1), message },
                  });
          // 2026-07-28 clients that take URL elicitation decide large orders by a round trip (see ToolContext).
          const capabilities = ((ctx.mcpReq.envelope ?? ctx.mcpReq._meta) as Record<string, unknown> | undefined)?.[
            'io.modelcontextprotocol/clientCapabilities'
          ] as { elicitation?: { url?: unknown } } | undefined;
          const username = extra.principal.username;
          const elicitation =
            stateCodec && deps.approvalDeviceUrl && username && capabilities?.elicitation?.url !== undefined
              ? {
                  deviceUrl: `${deps.approvalDeviceUrl.replace(/\/$/, '')}/users/${encodeURIComponent(username)}`,
                  pending: () => ctx.mcpReq.requestState<PendingApproval>(),
                  answer: ctx.mcpReq.inputResponses?.approve,
                  mint: (pending: PendingApproval) => stateCodec.mint(pending, ctx),
                }
              : undefined;
          return runTool(tool, args, extra, token, {
            signal: ctx.mcpReq.signal,
            ...(reportProgress ? { reportProgress } : {}),
            ...(elicitation ? { elicitation } : {}),
          });
        },
      );
    }
    return server;
  }

  // The SDK reports every refusal through onerror, the client's mistakes (bad headers, unsupported version) as well
  // as its own faults. Which one it was shows in the status it answers with: errors are collected per request
  // (AsyncLocalStorage: onerror runs inside the request's async context) and logged once the response is known,
  // at error level only for a 5xx. Any client can send bad requests; they must not fill the error log.
  const reported = new AsyncLocalStorage<Error[]>();
  const modern = createMcpHandler(buildServer, {
    // JSON unless a tool emits a notification before its result (progress while an order awaits approval): then SSE.
    responseMode: 'auto',
    legacy: 'reject',
    onerror: (error: Error) => {
      const errors = reported.getStore();
      if (errors) errors.push(error);
      else deps.logger.log('error', 'mcp handler error', { error: error.name, message: error.message });
    },
  });

  async function serveModern(
    request: Request,
    options: { authInfo: AuthInfo; parsedBody?: unknown },
    requestId: string,
  ): Promise<Response> {
    const errors: Error[] = [];
    const response = await reported.run(errors, () => modern.fetch(request, options));
    for (const error of errors) {
      if (response.status >= 500)
        deps.logger.log('error', 'mcp handler error', {
          requestId,
          status: response.status,
          error: error.name,
          message: error.message,
        });
      else
        deps.logger.log('info', 'request refused by the MCP handler', {
          requestId,
          status: response.status,
          message: error.message,
        });
    }
    return response;
  }

  async function legacy(request: Request, authInfo: AuthInfo, parsedBody: unknown): Promise<Response> {
    if (request.method !== 'POST') {
      return Response.json(
        {
          jsonrpc: '2.0',
          error: { code: -32000, message: 'Method not allowed: this server is stateless; use POST.' },
          id: null,
        },
        { status: 405, headers: { allow: 'POST' } },
      );
    }
    const server = buildServer();
    // JSON, except for a request that asks for progress (params._meta.progressToken): that one streams (SSE).
    const wantsProgress =
      (parsedBody as { params?: { _meta?: { progressToken?: unknown } } } | undefined)?.params?._meta?.progressToken !==
      undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: !wantsProgress,
    });
    await server.connect(transport);
    const closeAll = () => {
      void transport.close();
      void server.close();
    };
    let response: Response;
    try {
      response = await transport.handleRequest(
        request,
        parsedBody === undefined ? { authInfo } : { authInfo, parsedBody },
      );
    } catch (error) {
      closeAll();
      throw error;
    }
    // A JSON answer is complete here. An SSE stream is still being written (progress, then the result): close the
    // per-request server when the stream ends or the client goes away, not before.
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      closeAll();
      return response;
    }
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: closeAll,
      }),
    );
    request.signal.addEventListener('abort', closeAll, { once: true });
    return new Response(body, { status: response.status, headers: response.headers });
  }

  return {
    buildServer,
    /**
     * The fast path: a well-formed tools/call for a known tool with valid arguments is answered here, with the
     * result shape the SDK produces for that protocol version (a unit test compares the two byte for byte).
     * Anything else — other methods, bad arguments, unknown tools, malformed envelopes — returns undefined and goes
     * to the SDK, which owns every error answer.
     */
    async tryFast(request: Request, parsedBody: unknown, auth: RequestAuth): Promise<Response | undefined> {
      const call = fastToolCall(request.headers, parsedBody);
      if (!call) return undefined;
      const args = call.tool.inputSchema.safeParse(call.arguments ?? {});
      if (!args.success) return undefined;
      deps.metrics.fastPathCalls += 1;
      // The request's signal aborts when the client goes away, as the SDK path's ctx.mcpReq.signal does: a
      // place_order awaiting approval stops waiting and places nothing.
      const result = await runTool(call.tool, args.data, auth, auth.token, { signal: request.signal });
      const body =
        call.era === 'modern'
          ? {
              result: {
                ...result,
                resultType: 'complete',
                _meta: { 'io.modelcontextprotocol/serverInfo': SERVER_INFO },
              },
              jsonrpc: '2.0',
              id: call.id,
            }
          : { result, jsonrpc: '2.0', id: call.id };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    },
    async fetch(request: Request, auth: RequestAuth, parsedBody?: unknown): Promise<Response> {
      const authInfo = toAuthInfo(auth);
      if (await isLegacyRequest(request, parsedBody)) return legacy(request, authInfo, parsedBody);
      return serveModern(request, parsedBody === undefined ? { authInfo } : { authInfo, parsedBody }, auth.requestId);
    },
  };
}
