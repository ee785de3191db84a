// The requests check-server sends: a JSON-RPC `initialize` (every MCP server answers it, and auth comes first), a
// minimal session for tool calls (2025-11-25 Streamable HTTP: initialize, initialized, then the call with the
// session id if one was issued), raw HTTP for a foreign Host header (fetch cannot set Host), and the metadata.
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { readChallenge, type Challenge } from './challenge.ts';

export const PROTOCOL_VERSION = '2025-11-25';

export interface Probe {
  status: number;
  challenge: Challenge | undefined;
  body: string;
  headers: Headers;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'check-server', version: '1.0.0' },
  },
};

function mcpHeaders(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': PROTOCOL_VERSION,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  };
}

async function toProbe(response: Response): Promise<Probe> {
  const body = await response.text();
  return { status: response.status, challenge: readChallenge(response), body, headers: response.headers };
}

/** POSTs `initialize` with the token (if any) and extra headers. */
export async function postInitialize(
  url: string,
  token: string | undefined,
  extra: Record<string, string> = {},
): Promise<Probe> {
  return toProbe(
    await fetch(url, { method: 'POST', headers: mcpHeaders(token, extra), body: JSON.stringify(INITIALIZE) }),
  );
}

/** The first JSON-RPC message of a JSON or SSE answer. */
export function firstMessage(body: string): { result?: Record<string, unknown>; error?: { message?: string } } {
  const data = body.trimStart().startsWith('{')
    ? body
    : (body
        .split('\n')
        .find((line) => line.startsWith('data:'))
        ?.slice(5) ?? '{}');
  try {
    return JSON.parse(data) as ReturnType<typeof firstMessage>;
  } catch {
    return {};
  }
}

/** initialize → notifications/initialized → one tools/call, with the session id if the server issued one. */
export async function callTool(
  url: string,
  token: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Probe> {
  const init = await fetch(url, { method: 'POST', headers: mcpHeaders(token), body: JSON.stringify(INITIALIZE) });
  await init.text();
  const session = init.headers.get('mcp-session-id');
  const extra: Record<string, string> = session ? { 'mcp-session-id': session } : {};
  const initialized = await fetch(url, {
    method: 'POST',
    headers: mcpHeaders(token, extra),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  return toProbe(
    await fetch(url, {
      method: 'POST',
      headers: mcpHeaders(token, extra),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } }),
    }),
  );
}

/** POSTs `initialize` with a Host header naming another host (DNS rebinding), over node:http(s). */
export function postWithHost(url: string, token: string, host: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? requestTls : request;
  const body = JSON.stringify(INITIALIZE);
  return new Promise((resolve, reject) => {
    const req = send(
      {
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port || (target.protocol === 'https:' ? 443 : 80),
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers: { ...mcpHeaders(token), host, 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
        ...(target.protocol === 'https:' ? { servername: target.hostname } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The RFC 9728 §3.1 path-suffixed metadata URL of a resource. */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}
