// check-server's options, parsed once from argv (node:util parseArgs, then zod): what to check and how to reach
// the sandbox realm that mints the tokens. Defaults point at the `make up` stack.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ADMIN, DEFAULT_PORTS, REALM, SANDBOX_USERS, urlsFor } from '@sandbox/stack';

const DEFAULTS = urlsFor(DEFAULT_PORTS);

const httpUrl = (name: string) =>
  z
    .string({ error: `--${name} is required` })
    .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
      message: `--${name} must be an http(s) URL`,
    })
    .transform((value) => value.replace(/\/+$/, ''));

const jsonObject = (name: string) =>
  z.string().transform((text, ctx) => {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    ctx.addIssue({ code: 'custom', message: `--${name} must be a JSON object, e.g. '{"symbol":"ACME"}'` });
    return z.NEVER;
  });

const user = (name: string) =>
  z.string().transform((value, ctx) => {
    const [username, password] = value.includes(':') ? value.split(/:(.*)/s) : [value, undefined];
    const known = SANDBOX_USERS.find((u) => u.username === username);
    const secret = password ?? known?.password;
    if (!username || !secret) {
      ctx.addIssue({ code: 'custom', message: `--${name} must be a sandbox user (alice, bob) or name:password` });
      return z.NEVER;
    }
    return { username, password: secret };
  });

export const ServerCheckOptionsSchema = z
  .object({
    /** The MCP endpoint under test, exactly as its protected-resource metadata names it. */
    url: z
      .string({ error: 'the MCP server URL (first argument) is required' })
      .refine((value) => /^https?:\/\/\S+$/.test(value) && URL.canParse(value), {
        message: 'the MCP server URL must be an http(s) URL, e.g. http://localhost:3000/mcp',
      }),
    out: z.string().min(1).default('test-results/checks'),
    name: z
      .string()
      .regex(/^[\w.-]+$/, '--name must be a file name without a path')
      .default('check-server'),
    keycloak: httpUrl('keycloak').default(DEFAULTS.keycloak),
    realm: z.string().min(1).default(REALM),
    /** The realm's issuer as it appears in tokens; default <keycloak>/realms/<realm>. */
    issuer: httpUrl('issuer').optional(),
    adminUser: z.string().min(1).default(ADMIN.username),
    adminPassword: z.string().min(1).default(ADMIN.password),
    user: user('user').default({ username: 'alice', password: 'alice-sandbox' }),
    otherUser: user('other-user').default({ username: 'bob', password: 'bob-sandbox' }),
    /** Scopes for the valid token; default: the 401 challenge's scope, else the metadata's scopes_supported. */
    scope: z.string().min(1).optional(),
    stepUpTool: z.string().min(1).default('place_order'),
    stepUpScope: z.string().min(1).default('trade:write'),
    stepUpArgs: jsonObject('step-up-args').default({ symbol: 'ACME', side: 'buy', quantity: 1 }),
    passthroughTool: z.string().min(1).default('get_portfolio'),
    passthroughArgs: jsonObject('passthrough-args').default({}),
    stockApi: httpUrl('stock-api').default(DEFAULTS.stockApi),
    /** Clock skew the server may allow past `exp`; the expired-token check waits this long. */
    leewayS: z.coerce.number().int().min(0).max(120).default(5),
  })
  .transform((o) => ({ ...o, issuer: o.issuer ?? `${o.keycloak}/realms/${o.realm}` }));

export type ServerCheckOptions = z.output<typeof ServerCheckOptionsSchema>;
export type ServerCheckInput = z.input<typeof ServerCheckOptionsSchema>;

export const SERVER_USAGE = `Usage: check-server <mcp-url> [options]
  --out DIR               where to write <name>.json and <name>.junit.xml (test-results/checks)
  --name NAME             report file name (check-server)
  --keycloak URL          Keycloak base URL for the admin API and tokens (${DEFAULTS.keycloak})
  --realm NAME            the realm the server trusts (${REALM}); --issuer URL if its issuer differs
  --admin-user/--admin-password   Keycloak master admin (${ADMIN.username} / ${ADMIN.password})
  --user NAME[:PASSWORD]  the user whose tokens are used (alice); --other-user (bob) for the tampered token
  --scope "A B"           scopes of the valid token (default: the 401 challenge's scope)
  --step-up-tool T --step-up-scope S --step-up-args JSON   (place_order, trade:write, one ACME)
  --passthrough-tool T --passthrough-args JSON             a tool that calls the stock API (get_portfolio)
  --stock-api URL         the sandbox stock API whose token fingerprints are checked (${DEFAULTS.stockApi})
  --leeway-s N            clock skew the server may allow past exp (5)
Exit codes: 0 every check passed or was skipped, 1 a check failed, 2 bad arguments or the realm unreachable.`;

/** argv (after the command name) → options; throws a ZodError or TypeError naming the bad option. */
export function parseServerCheckArgs(argv: readonly string[]): ServerCheckOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      keycloak: { type: 'string' },
      realm: { type: 'string' },
      issuer: { type: 'string' },
      'admin-user': { type: 'string' },
      'admin-password': { type: 'string' },
      user: { type: 'string' },
      'other-user': { type: 'string' },
      scope: { type: 'string' },
      'step-up-tool': { type: 'string' },
      'step-up-scope': { type: 'string' },
      'step-up-args': { type: 'string' },
      'passthrough-tool': { type: 'string' },
      'passthrough-args': { type: 'string' },
      'stock-api': { type: 'string' },
      'leeway-s': { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new TypeError(`one MCP server URL expected, got: ${positionals.join(' ')}`);
  const camel = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), value]),
  );
  return ServerCheckOptionsSchema.parse({ ...camel, url: positionals[0] });
}
