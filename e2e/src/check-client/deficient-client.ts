// A deliberately deficient client under test, to prove check-client fails the matching steps: it discovers
// correctly and uses PKCE S256, but registers without application_type, sends no RFC 8707 `resource` (neither on
// the authorization nor the token request) and asks for "mcp:tools" whatever the 401 challenge names.
// `node deficient-client.ts <MCP URL>`. Hand-written HTTP on purpose: no library would make these mistakes.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const mcpUrl = process.argv[2] ?? 'http://localhost:3000/mcp';
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;
const post = (body: unknown, token?: string) =>
  fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
const whoami = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };

const challenge = (await post(whoami)).headers.get('www-authenticate') ?? '';
const prmUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? '';
const issuer = ((await json(await fetch(prmUrl))).authorization_servers as string[])[0];
const as = await json(await fetch(`${issuer}/.well-known/openid-configuration`));

let deliver: (params: URLSearchParams) => void = () => {};
const callback = new Promise<URLSearchParams>((resolve) => (deliver = resolve));
const loopback = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/callback') return void res.writeHead(404).end();
  res.writeHead(200).end('done');
  deliver(url.searchParams);
});
await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
const redirectUri = `http://127.0.0.1:${(loopback.address() as AddressInfo).port}/callback`;

const registered = await json(
  await fetch(String(as.registration_endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'deficient client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }), // no application_type
  }),
);
const verifier = randomBytes(32).toString('base64url');
const authorize = new URL(String(as.authorization_endpoint));
authorize.search = new URLSearchParams({
  response_type: 'code',
  client_id: String(registered.client_id),
  redirect_uri: redirectUri,
  scope: 'mcp:tools', // not the challenge's scope
  state: randomBytes(8).toString('hex'),
  code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  code_challenge_method: 'S256',
}).toString(); // no resource
console.error(`Please sign in: ${authorize.href}`);

const params = await callback;
loopback.close();
const token = await json(
  await fetch(String(as.token_endpoint), {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') ?? '',
      redirect_uri: redirectUri,
      client_id: String(registered.client_id),
      code_verifier: verifier,
    }), // no resource
  }),
);
const answer = await post(whoami, String(token.access_token));
console.log(`whoami: ${answer.status}`);
