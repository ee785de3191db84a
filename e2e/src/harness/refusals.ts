// What every refusal must look like (status, RFC 6750 challenge, nothing leaked), raw HTTP for requests fetch cannot
// send (duplicate headers, a foreign Host, oversized headers), and the stock API's record of what it received.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
import { stack } from './stack.ts';

export const ALL_SCOPES = 'mcp:tools portfolio:read trade:read trade:write';
export const JWT_SHAPE = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** Fails if text holds a token (or its payload), a stack trace line, or a file-system path. */
export function assertNothingLeaked(text: string, tokens: readonly string[] = [], where = 'response'): void {
  for (const token of tokens) {
    assert.ok(!text.includes(token), `${where} contains the token`);
    const payload = token.split('.')[1];
    if (payload && payload.length > 20) assert.ok(!text.includes(payload), `${where} contains the token's payload`);
  }
  assert.doesNotMatch(text, JWT_SHAPE, `${where} contains a JWT`);
  assert.doesNotMatch(text, /^\s*at .+[(:]/m, `${where} contains a stack trace`);
  assert.doesNotMatch(
    text,
    /\/work\/|node_modules|\/home\/|\/tmp\/|file:\/\/|\.ts:\d+/,
    `${where} contains an internal path`,
  );
}

export interface Refusal {
  status: number;
  error?: string;
  description?: string;
  body: string;
  headers: Headers;
}

/**
 * Asserts a refusal: the status, and for 401/403/400 invalid_request a challenge with resource_metadata and scope, and the given error
 * code (undefined: no error, as for a missing token); nothing leaked in body or challenge.
 */
export async function assertRefused(
  response: Response,
  status: number,
  error: string | undefined,
  tokens: readonly string[] = [],
): Promise<Refusal> {
  const body = await response.text();
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${body.slice(0, 300)}`);
  const header = response.headers.get('www-authenticate') ?? '';
  if (status === 401 || status === 403 || (status === 400 && error === 'invalid_request')) {
    const challenge = extractWWWAuthenticateParams(response);
    assert.match(header, /^Bearer /);
    assert.equal(
      challenge.resourceMetadataUrl?.href,
      `${stack().urls.mcpOrigin}/.well-known/oauth-protected-resource/mcp`,
    );
    assert.ok(challenge.scope?.includes('mcp:tools'), `challenge without scope: ${header}`);
    assert.equal(challenge.error, error, `challenge error: ${header}`);
  }
  assertNothingLeaked(body, tokens, 'body');
  assertNothingLeaked(header, tokens, 'WWW-Authenticate');
  let parsed: { error?: string; error_description?: string } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    /* not JSON */
  }
  if (status !== 401 && error) assert.equal(parsed.error, error, body);
  return { status, error: parsed.error, description: parsed.error_description, body, headers: response.headers };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A POST to the MCP endpoint over node:http with headers as a raw [name, value, ...] list (duplicates kept). */
export function rawHttp(options: {
  path?: string;
  method?: string;
  rawHeaders: string[];
  body?: string;
}): Promise<RawResponse> {
  const url = new URL(stack().urls.mcp);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(url.port),
        path: options.path ?? url.pathname,
        method: options.method ?? 'POST',
        headers: options.rawHeaders,
        setHost: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The usual JSON-RPC headers, as a raw list, with the given Host. */
export function jsonRpcHeaders(host = new URL(stack().urls.mcp).host): string[] {
  return [
    'Host',
    host,
    'Content-Type',
    'application/json',
    'Accept',
    'application/json, text/event-stream',
    'MCP-Protocol-Version',
    '2025-11-25',
  ];
}

export interface Decision {
  at: string;
  accepted: boolean;
  azp: string | null;
  aud: string[];
  sub: string | null;
  route: string;
  scope: string | null;
  code?: string;
  tokenSha256Prefix: string | null;
}

/** The stock API's last auth decisions (a ring buffer of 200), optionally only those at or after a time. */
export async function received(since?: number): Promise<Decision[]> {
  const decisions = (
    (await (await fetch(`${stack().urls.stockApi}/_sandbox/received`)).json()) as { decisions: Decision[] }
  ).decisions;
  return since === undefined ? decisions : decisions.filter((d) => Date.parse(d.at) >= since);
}

export interface JsonRpcReply {
  status: number;
  body: {
    result?: { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Record<string, unknown> };
    error?: { code: number; message: string };
  };
  text: string;
  ms: number;
}

/** POSTs one JSON-RPC message with a bearer token and returns the parsed reply and how long it took. */
export async function callMcp(
  token: string,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<JsonRpcReply> {
  const started = performance.now();
  const response = await fetch(stack().urls.mcp, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      authorization: `Bearer ${token}`,
      ...headers,
    },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
  const text = await response.text();
  let body: JsonRpcReply['body'] = {};
  try {
    body = JSON.parse(text) as JsonRpcReply['body'];
  } catch {
    /* not JSON */
  }
  return { status: response.status, body, text, ms: performance.now() - started };
}

export function toolText(reply: JsonRpcReply): string {
  return reply.body.result?.content?.map((c) => c.text ?? '').join('\n') ?? '';
}
