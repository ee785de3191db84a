// A client under test for check-client: the MCP SDK v2 client (@modelcontextprotocol/client) as an app would use
// it, self-driven. `node sdk-v2-client.ts <MCP URL>`: prints the authorization URL for its user (check-client's
// scripted user opens it), takes the code on a loopback redirect, lists tools, calls whoami, then places one small
// order (the server answers 403 insufficient_scope; the SDK asks for trade:write and the call is retried).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';

const mcpUrl = new URL(process.argv[2] ?? 'http://localhost:3000/mcp');
const callbacks: URLSearchParams[] = [];
let waiting: ((params: URLSearchParams) => void) | undefined;
const loopback = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/callback') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in; you can close this tab.');
  if (waiting) waiting(url.searchParams);
  else callbacks.push(url.searchParams);
  waiting = undefined;
});
await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${(loopback.address() as AddressInfo).port}/callback`;
const nextCallback = () =>
  callbacks.length
    ? Promise.resolve(callbacks.shift() as URLSearchParams)
    : new Promise<URLSearchParams>((resolve) => (waiting = resolve));

const store: Record<string, unknown> = {};
const provider = {
  redirectUrl,
  clientMetadata: {
    client_name: 'check-client example (SDK v2)',
    redirect_uris: [redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  clientInformation: () => store.client as never,
  saveClientInformation: (info: unknown) => void (store.client = info),
  tokens: () => store.tokens as never,
  saveTokens: (tokens: unknown) => void (store.tokens = tokens),
  codeVerifier: () => store.verifier as string,
  saveCodeVerifier: (verifier: string) => void (store.verifier = verifier),
  discoveryState: () => store.discovery as never,
  saveDiscoveryState: (state: unknown) => void (store.discovery = state),
  redirectToAuthorization: (url: URL) => void console.error(`Open this URL to sign in:\n${url.href}`),
};

function open() {
  const client = new Client({ name: 'check-client-example-v2', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  } as never);
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider as never });
  let connected: Promise<void> | undefined;
  return { client, transport, ready: () => (connected ??= client.connect(transport)) };
}
let session = open();

/** Runs op; when the SDK stops for a login (first use, or step-up after a 403), finishes it and runs op again. */
async function authorized<T>(op: (s: ReturnType<typeof open>) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await session.ready();
      return await op(session);
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || attempt === 2) throw error;
      await session.transport.finishAuth(await nextCallback());
      await session.client.close().catch(() => {});
      session = open();
    }
  }
}

try {
  const tools = await authorized((s) => s.client.listTools());
  console.log(`tools: ${tools.tools.map((tool) => tool.name).join(', ')}`);
  for (const [name, args] of [
    ['whoami', {}],
    ['place_order', { symbol: 'ACME', side: 'buy', quantity: 1 }],
  ] as const) {
    const result = (await authorized((s) => s.client.callTool({ name, arguments: args }))) as {
      isError?: boolean;
      content: Array<{ text?: string }>;
    };
    console.log(`${name}: ${result.isError ? 'error: ' : ''}${result.content[0]?.text ?? ''}`);
  }
} finally {
  await session.client.close().catch(() => {});
  loopback.close();
}
