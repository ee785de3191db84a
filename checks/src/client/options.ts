// check-client's arguments, parsed once:
//   check-client [--mcp-url URL] [--stdio] [--user alice] [--env K=V]… [--timeout 90] [--out DIR] [--name NAME] -- <command…>
// `{url}` in the command is replaced by the MCP URL.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SANDBOX_USERS } from '@sandbox/stack';

export const CHECK_CLIENT_USAGE = `Usage: check-client [options] -- <client command…>   ({url} in it, and $MCP_URL, are the MCP URL)
  --mcp-url URL     the sandbox MCP server (default http://localhost:3000/mcp)
  --stdio           the command is a stdio MCP server (a bridge such as mcp-remote): check-client drives it
                    (tools/list, whoami, place_order to exercise step-up); without it the command drives itself
  --user NAME       the scripted user (default alice; bob cannot trade)   --password PW  (default: the sandbox's)
  --env K=V         extra environment for the client (repeatable), e.g. a fresh token store
  --timeout S       give up on the client after S seconds (default 90)
  --out DIR         where the JSON and JUnit XML go (default test-results/checks)   --name NAME (default check-client)
  --chromium PATH   the Chromium to drive (default $CHROMIUM_PATH or /usr/bin/chromium)`;

const httpUrl = z.url({ protocol: /^https?$/, error: '--mcp-url must be an http(s) URL' });

export interface CheckClientOptions {
  mcpUrl: string;
  command: string[];
  stdio: boolean;
  username: string;
  password: string;
  env: Record<string, string>;
  timeoutS: number;
  outDir: string;
  name: string;
  chromiumPath: string;
  /** PATH and HOME handed to a self-driven client (stdio clients get the SDK's default environment). */
  baseEnv: Record<string, string>;
}

/** Parses argv (after the subcommand) and the few environment variables check-client uses; throws a usage error (TypeError). */
export function parseCheckClientArgs(argv: string[], env: Record<string, string | undefined> = {}): CheckClientOptions {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const { values } = parseArgs({
    args: own,
    strict: true,
    options: {
      'mcp-url': { type: 'string', default: 'http://localhost:3000/mcp' },
      stdio: { type: 'boolean', default: false },
      user: { type: 'string', default: 'alice' },
      password: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      timeout: { type: 'string', default: '90' },
      out: { type: 'string', default: 'test-results/checks' },
      name: { type: 'string', default: 'check-client' },
      chromium: { type: 'string', default: env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    },
  });
  if (command.length === 0) throw new TypeError(`no client command after "--"\n${CHECK_CLIENT_USAGE}`);
  const parsed = httpUrl.safeParse(values['mcp-url']);
  if (!parsed.success) throw new TypeError('--mcp-url must be an http(s) URL');
  const mcpUrl = parsed.data;
  const password = values.password ?? SANDBOX_USERS.find((u) => u.username === values.user)?.password;
  if (!password) throw new TypeError(`--user ${values.user} is not a sandbox user: pass --password too`);
  const timeoutS = Number(values.timeout);
  if (!Number.isInteger(timeoutS) || timeoutS < 5)
    throw new TypeError('--timeout must be a whole number of seconds, at least 5');
  const extra: Record<string, string> = {};
  for (const pair of values.env) {
    const at = pair.indexOf('=');
    if (at < 1) throw new TypeError(`--env ${pair}: expected KEY=VALUE`);
    extra[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (!/^[\w.-]+$/.test(values.name)) throw new TypeError('--name may hold only letters, digits, ".", "_" and "-"');
  return {
    mcpUrl,
    command: command.map((part) => part.replaceAll('{url}', mcpUrl)),
    stdio: values.stdio,
    username: values.user,
    password,
    env: extra,
    timeoutS,
    outDir: values.out,
    name: values.name,
    chromiumPath: values.chromium,
    baseEnv: Object.fromEntries(
      (['PATH', 'HOME'] as const).flatMap((key) => (env[key] ? [[key, env[key] as string]] : [])),
    ),
  };
}
