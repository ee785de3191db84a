// `make call TOOL=… ARGS='{…}'`: one MCP tool call as a real client makes it, for the README walkthroughs and
// workshops. It uses the MCP TypeScript SDK v2, identifies itself with a Client ID Metadata Document (no
// registration), and prints each sign-in URL for you to open. It listens on a loopback port for the redirect, steps up
// when a tool needs more scope, and keeps its tokens in .run/mcp-call/ so later calls need no sign-in.
//
//   node scripts/mcp-call.ts place_order '{"symbol":"ACME","side":"buy","quantity":40}'
//   node scripts/mcp-call.ts get_portfolio
//   node scripts/mcp-call.ts --logout          # forget the stored tokens (sign in as someone else)
//   node scripts/mcp-call.ts --bot secret get_stock_info '{"symbol":"ACME"}'   # as a machine client, no user
//                                              # (sandbox-bot; --bot jwt: sandbox-bot-jwt; --bot workload: sandbox-workload)
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StaticPrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import {
  DEFAULT_PORTS,
  ensureMachineCredentials,
  MACHINE_CLIENTS,
  mintWorkloadToken,
  repoRoot,
  urlsFor,
} from '../stack/src/index.ts';

const defaults = urlsFor(DEFAULT_PORTS);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: defaults.mcp },
    'client-metadata-url': { type: 'string', default: `${defaults.clientDocs}/clients/sdk-reference.json` },
    logout: { type: 'boolean', default: false },
    /** secret | jwt: call as the machine client sandbox-bot or sandbox-bot-jwt (client_credentials, no sign-in). */
    bot: { type: 'string' },
    'state-dir': { type: 'string', default: join(repoRoot, '.run', 'mcp-call') },
  },
});
const STATE_DIR = values['state-dir'];
const STATE_FILE = join(STATE_DIR, 'state.json');

if (values.logout) {
  rmSync(STATE_DIR, { recursive: true, force: true });
  console.log('Forgot the stored tokens; the next call signs in again.');
  process.exit(0);
}
const [tool, rawArgs] = positionals;
if (!tool) {
  console.error('usage: node scripts/mcp-call.ts <tool> [JSON arguments]   (or: make call TOOL=<tool> ARGS=<JSON>)');
  process.exit(2);
}
let args: Record<string, unknown>;
try {
  args = JSON.parse(rawArgs || '{}') as Record<string, unknown>;
} catch (error) {
  console.error(`The arguments must be a JSON object, e.g. '{"symbol":"ACME"}': ${(error as Error).message}`);
  process.exit(2);
}

if (values.bot !== undefined) {
  if (values.bot !== 'secret' && values.bot !== 'jwt' && values.bot !== 'workload') {
    console.error(
      '--bot takes secret (sandbox-bot, client secret), jwt (sandbox-bot-jwt, private_key_jwt) or workload (sandbox-workload, a JWT from the local workload issuer)',
    );
    process.exit(2);
  }
  const credentials = ensureMachineCredentials();
  const provider =
    values.bot === 'secret'
      ? new ClientCredentialsProvider({ clientId: MACHINE_CLIENTS.secret, clientSecret: credentials.secret })
      : values.bot === 'jwt'
        ? new PrivateKeyJwtProvider({
            clientId: MACHINE_CLIENTS.jwt,
            privateKey: credentials.privateKeyPem,
            algorithm: 'RS256',
          })
        : new StaticPrivateKeyJwtProvider({
            clientId: MACHINE_CLIENTS.workload,
            jwtBearerAssertion: await mintWorkloadToken(defaults.issuer),
          });
  // Its own registered scopes (by asking for none), not the challenge's: that names what a person's sign-in needs.
  const prepare = provider.prepareTokenRequest.bind(provider);
  provider.prepareTokenRequest = () => prepare(undefined);
  const bot = new Client({ name: 'sandbox-mcp-call-bot', version: '1.0.0' });
  await bot.connect(new StreamableHTTPClientTransport(new URL(values.url), { authProvider: provider }));
  const result = (await bot.callTool({ name: tool, arguments: args })) as {
    content: Array<{ type: string; text?: string }>;
    isError?: boolean;
  };
  for (const part of result.content) if (part.type === 'text') console.log(part.text);
  await bot.close();
  process.exit(result.isError ? 1 : 0);
}

/** The loopback redirect target: one server for the whole run, each sign-in awaits its own callback. */
const callbacks: Array<(url: URL) => void> = [];
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/callback') return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Signed in. Back to the terminal.</h1>');
  callbacks.shift()?.(url);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const redirectUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;

type Stored = { tokens?: unknown; client?: unknown };
const stored: Stored = existsSync(STATE_FILE) ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as Stored) : {};
const save = () => {
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(STATE_FILE, JSON.stringify(stored), { mode: 0o600 });
  chmodSync(STATE_FILE, 0o600); // an existing file keeps its mode on write
};

/** The SDK's OAuthClientProvider: CIMD client ID, tokens on disk, sign-in by a printed URL. */
const state = randomUUID();
let verifier = '';
let discovery: unknown;
let pendingCallback: Promise<URL> | undefined;
const provider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadataUrl() {
    return values['client-metadata-url'];
  },
  get clientMetadata() {
    return {
      client_name: 'Sandbox reference client (SDK v2)',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  state: () => state,
  clientInformation: () => stored.client as never,
  saveClientInformation: (info: unknown) => {
    stored.client = info;
    save();
  },
  tokens: () => stored.tokens as never,
  saveTokens: (tokens: unknown) => {
    stored.tokens = tokens;
    save();
  },
  saveCodeVerifier: (v: string) => void (verifier = v),
  codeVerifier: () => verifier,
  saveDiscoveryState: (s: unknown) => void (discovery = s),
  discoveryState: () => discovery as never,
  redirectToAuthorization: (url: URL) => {
    const scope = url.searchParams.get('scope') ?? '';
    pendingCallback = new Promise((resolve) => callbacks.push(resolve));
    console.log(`\nSign in to continue (scope: ${scope}). Open this URL in your browser:\n\n  ${url.href}\n`);
  },
};

const transport = () => new StreamableHTTPClientTransport(new URL(values.url), { authProvider: provider as never });
let current = transport();
const client = new Client({ name: 'sandbox-mcp-call', version: '1.0.0' }, {
  versionNegotiation: { mode: { pin: '2026-07-28' } },
} as never);

/** Runs `action`; when the SDK stops for a sign-in (first login, or a step-up), waits for it and runs it again. */
async function withSignIn<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !pendingCallback || attempt >= 3) throw error;
      const callback = await pendingCallback;
      pendingCallback = undefined;
      if (callback.searchParams.get('state') !== state)
        throw new Error('The sign-in came back with another state: not this request. Run the call again.', {
          cause: error,
        });
      if (callback.searchParams.get('error'))
        throw new Error(
          `Sign-in failed: ${callback.searchParams.get('error_description') ?? callback.searchParams.get('error')}`,
          { cause: error },
        );
      await current.finishAuth(callback.searchParams);
      console.log('Signed in.');
    }
  }
}

try {
  await withSignIn(async () => {
    if (client.transport) return;
    current = transport();
    await client.connect(current);
  });
  if (tool === 'place_order')
    console.log('Placing the order. Orders above the approval threshold wait for your approval on your device.');
  // A large order waits for the user's approval: hear the wait (progress), and keep waiting while it lasts.
  const result = (await withSignIn(() =>
    client.callTool({ name: tool, arguments: args }, {
      onprogress: (p: { message?: string }) => console.log(p.message ?? 'still waiting…'),
      resetTimeoutOnProgress: true,
      timeout: 60_000,
    } as never),
  )) as {
    content: Array<{ type: string; text?: string }>;
    isError?: boolean;
  };
  for (const part of result.content) if (part.type === 'text') console.log(part.text);
  process.exitCode = result.isError ? 1 : 0;
} catch (error) {
  const message = (error as Error).message;
  console.error(
    /fetch failed|ECONNREFUSED/.test(message)
      ? `Failed: nothing answers at ${values.url} (${message}). Start the sandbox with \`make up\`.`
      : `Failed: ${message}`,
  );
  process.exitCode = 1;
} finally {
  await client.close().catch(() => {});
  server.close();
}
