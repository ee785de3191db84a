// check-client: runs a client under test against the sandbox (its MCP server, the realm as authorization server),
// with the client's HTTP traffic through a recording proxy and a scripted user in Chromium for each login, then
// turns what was seen into one verdict per step (classify.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Report } from '../report.ts';
import { classify } from './classify.ts';
import { startScriptedUser, type ScriptedUser } from './login.ts';
import { parseChallenge, type Observations } from './observations.ts';
import type { CheckClientOptions } from './options.ts';
import { startRecordingProxy } from './proxy.ts';

/** The smallest order: needs trade:write, which the first login does not ask for, so it exercises step-up. */
const BUY_ONE_ACME = { symbol: 'ACME', side: 'buy', quantity: 1 };

/** The sandbox could not be reached or is not the one expected: nothing about the client is known yet. */
export class ClientSetupError extends Error {
  override name = 'ClientSetupError';
}

interface Discovered {
  issuer: string;
  authorizationEndpoint: string;
  challengeScope: string[];
}

/** What the client will meet: the server's 401 challenge, its protected-resource metadata, the AS metadata. */
async function discover(mcpUrl: string): Promise<Discovered> {
  const unauthenticated = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  }).catch((error: unknown) => {
    throw new ClientSetupError(
      `the MCP server at ${mcpUrl} is not reachable (${String(error)}); start the sandbox (make up) or pass --mcp-url`,
    );
  });
  const challenge = parseChallenge(unauthenticated.headers.get('www-authenticate') ?? undefined);
  if (unauthenticated.status !== 401 || !challenge.resourceMetadata)
    throw new ClientSetupError(
      `${mcpUrl} answered ${unauthenticated.status} without a token, with no resource_metadata challenge; point --mcp-url at the sandbox's MCP server`,
    );
  const prm = (await (await fetch(challenge.resourceMetadata)).json()) as { authorization_servers?: string[] };
  const issuer = prm.authorization_servers?.[0];
  if (!issuer) throw new ClientSetupError(`${challenge.resourceMetadata} names no authorization server`);
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint?: string;
  };
  if (!meta.authorization_endpoint) throw new ClientSetupError(`${issuer} metadata has no authorization_endpoint`);
  return { issuer, authorizationEndpoint: meta.authorization_endpoint, challengeScope: challenge.scope };
}

/** Client output as written to the log: anything shaped like a JWT masked. */
const masked = (text: string) => text.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '<jwt>');

/** Drives a stdio MCP server command as its host would: list tools, whoami, one small order (step-up). */
async function driveStdio(
  options: CheckClientOptions,
  env: Record<string, string>,
  onOutput: (text: string) => void,
  calls: Record<string, string>,
): Promise<string> {
  const [command, ...args] = options.command as [string, ...string[]];
  const transport = new StdioClientTransport({ command, args, env: { ...env, ...options.env }, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  const client = new Client({ name: 'check-client', version: '1.0.0' });
  const timeout = { timeout: options.timeoutS * 1000 };
  try {
    await client.connect(transport, timeout);
    calls['tools/list'] = (await client.listTools(undefined, timeout)).tools.length > 0 ? 'ok' : 'no tools';
    for (const [name, args] of [
      ['whoami', {}],
      ['place_order', BUY_ONE_ACME],
    ] as const) {
      const result = (await client.callTool({ name, arguments: args }, undefined, timeout)) as {
        isError?: boolean;
        content?: Array<{ text?: string }>;
      };
      calls[name] = result.isError ? `tool error: ${result.content?.[0]?.text ?? ''}` : 'ok';
    }
    return 'driven over stdio: tools/list, whoami, place_order';
  } catch (error) {
    return `stdio session failed: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await client.close().catch(() => {});
  }
}

/** Runs a self-driven client command to its end (or kills it at the timeout). */
function runSelf(
  options: CheckClientOptions,
  env: Record<string, string>,
  onOutput: (text: string) => void,
): Promise<string> {
  const [command, ...args] = options.command as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...options.baseEnv, ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
      resolve(`killed after ${options.timeoutS} s`);
    }, options.timeoutS * 1000);
    child.stdout.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(`could not start ${command}: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ? `ended by ${signal}` : `exit ${code}`);
    });
  });
}

/**
 * Runs the client under test once and returns the per-step report.
 *
 * @example const report = await runCheckClient(parseCheckClientArgs(['--stdio', '--', 'npx', 'mcp-remote', '{url}']))
 */
export async function runCheckClient(options: CheckClientOptions): Promise<Report> {
  const startedAt = Date.now();
  const found = await discover(options.mcpUrl);
  const proxy = await startRecordingProxy(startedAt);
  let user: ScriptedUser | undefined;
  let output = '';
  let exit: string;
  const stdioCalls: Record<string, string> = {};
  try {
    user = await startScriptedUser({
      chromiumPath: options.chromiumPath,
      authorizationEndpoint: found.authorizationEndpoint,
      username: options.username,
      password: options.password,
      startedAt,
      screenshotDir: join(options.outDir, `${options.name}-screens`),
    });
    const onOutput = (text: string) => {
      output += text;
      user?.scan(output);
    };
    const env = {
      HTTP_PROXY: proxy.url,
      http_proxy: proxy.url,
      HTTPS_PROXY: proxy.url,
      https_proxy: proxy.url,
      NODE_USE_ENV_PROXY: '1',
      NO_PROXY: '',
      no_proxy: '',
      BROWSER: 'none', // print the URL rather than open a desktop browser; check-client's user opens it
      MCP_URL: options.mcpUrl, // for a client that takes its server from the environment rather than {url}
    };
    exit = options.stdio ? await driveStdio(options, env, onOutput, stdioCalls) : await runSelf(options, env, onOutput);
    user.scan(`${output}\n`); // a URL the client printed last, with nothing after it
    await user.idle();
  } finally {
    await user?.close().catch(() => {});
    await proxy.close();
    mkdirSync(options.outDir, { recursive: true });
    writeFileSync(join(options.outDir, `${options.name}.client.log`), masked(output));
  }
  const observations: Observations = {
    mcpUrl: options.mcpUrl,
    issuer: found.issuer,
    challengeScope: found.challengeScope,
    exchanges: proxy.exchanges,
    authorizations: user.authorizations,
    mode: options.stdio ? 'stdio' : 'self',
    ...(options.stdio ? { stdioCalls } : {}),
    exit,
  };
  writeFileSync(
    join(options.outDir, `${options.name}.observations.json`),
    `${JSON.stringify(observations, null, 2)}\n`,
  );
  return {
    tool: 'check-client',
    target: options.command.join(' '),
    startedAt: new Date(startedAt).toISOString(),
    results: classify(observations),
  };
}
