// The MCP server's whole configuration, parsed once at startup. Nothing else reads process.env.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const httpUrl = (name: string) =>
  z.string({ error: `"${name}" is required` }).refine(
    (value) => {
      try {
        return ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `"${name}" must be an http(s) URL` },
  );

const port = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `"${name}" must be a port number` })
    .int()
    .min(1, `"${name}" must be a port number (1-65535)`)
    .max(65535, `"${name}" must be a port number (1-65535)`)
    .default(fallback);

const positiveInt = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `"${name}" must be a positive integer` })
    .int(`"${name}" must be an integer`)
    .positive(`"${name}" must be positive`)
    .default(fallback);

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const EnvSchema = z.object({
  PORT: port('PORT', 3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Canonical URL of this MCP endpoint: the `resource` in metadata and the audience tokens must carry. */
  MCP_RESOURCE_URL: httpUrl('MCP_RESOURCE_URL').default('http://localhost:3000/mcp'),
  /** The realm's public issuer, exactly as it appears in `iss`. */
  ISSUER_URL: httpUrl('ISSUER_URL').default('http://localhost:8080/realms/sandbox'),
  /** Where this server reaches Keycloak when the public host is not reachable from it (compose: http://keycloak:8080). */
  KEYCLOAK_INTERNAL_URL: httpUrl('KEYCLOAK_INTERNAL_URL').optional(),
  /** The realm client used for token exchange; unset: MCP_RESOURCE_URL (the realm names the client after it). */
  CLIENT_ID: z.string().min(1, '"CLIENT_ID" must be the realm client used for token exchange').optional(),
  CLIENT_SECRET: z
    .string()
    .min(1, '"CLIENT_SECRET" must be the secret of CLIENT_ID in the realm')
    .default('sandbox-mcp-server-secret'),
  /**
   * The stock API, reached with node:http (keep-alive, see downstream/http.ts): plain http only. An https URL is
   * refused here rather than sending the exchanged token in clear text to port 80.
   */
  STOCK_API_URL: httpUrl('STOCK_API_URL')
    .refine((value) => new URL(value).protocol === 'http:', {
      message:
        '"STOCK_API_URL" must be an http:// URL: this server has no TLS client for the stock API, and would otherwise send the exchanged token unencrypted; put a TLS-terminating proxy next to the stock API or use its plain-HTTP address on a private network',
    })
    .default('http://localhost:4000'),
  STOCK_API_AUDIENCE: z.string().min(1).default('stock-api'),
  /** Unset: in-memory exchange cache. Set: Redis, shared by every server instance. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, '"REDIS_URL" must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_KEY_PREFIX: z.string().default('mcp:'),
  /** auto = redis when REDIS_URL is set, else memory; off = exchange on every call (benchmarks only). */
  EXCHANGE_CACHE: z
    .enum(['auto', 'memory', 'redis', 'off'], { error: '"EXCHANGE_CACHE" must be one of auto, memory, redis, off' })
    .default('auto'),
  /** Stop using a cached exchanged token this many seconds before it expires. */
  EXCHANGE_CACHE_SKEW_S: z.coerce.number().int().min(0).default(30),
  /** Hostnames (any port) allowed in Origin; requests without Origin are always allowed. */
  ALLOWED_ORIGINS: list.default(['localhost', '127.0.0.1', '[::1]']),
  /** Hostnames allowed in Host (DNS-rebinding protection). The resource URL's host is always added. */
  ALLOWED_HOSTS: list.default(['localhost', '127.0.0.1', '[::1]']),
  /**
   * Pre-registered confidential clients whose client_credentials tokens may call the tools marked for machines
   * (docs/client-credentials.md). Empty: no machine tokens at all.
   */
  MACHINE_CLIENTS: list.default(['sandbox-bot', 'sandbox-bot-jwt', 'sandbox-workload']),
  /**
   * DPoP (RFC 9449; docs/dpop.md): on, DPoP-bound tokens are accepted with valid proofs and bearer tokens too; required,
   * bearer tokens are refused (PRM says dpop_bound_access_tokens_required); off, the DPoP scheme is refused.
   */
  DPOP: z.enum(['on', 'required', 'off'], { error: '"DPOP" must be on, required or off' }).default('on'),
  /** Server nonces in DPoP proofs (RFC 9449 §8): on, a proof without this server's current nonce gets use_dpop_nonce. */
  DPOP_NONCE: z.enum(['on', 'off'], { error: '"DPOP_NONCE" must be on or off' }).default('off'),
  /** How far a DPoP proof's iat may be from now, in seconds (its jti is remembered twice as long). */
  DPOP_MAX_AGE_S: positiveInt('DPOP_MAX_AGE_S', 60),
  HTTP_TIMEOUT_MS: positiveInt('HTTP_TIMEOUT_MS', 5000),
  /**
   * How long place_order waits for the user's approval of a large order (CIBA) before giving up: below the 60 s after
   * which SDK clients stop waiting for a response (unless they reset their timeout on progress).
   */
  APPROVAL_TIMEOUT_S: positiveInt('APPROVAL_TIMEOUT_S', 50),
  /** The approval device's public URL: 2026-07-28 clients that take URL elicitation are sent to `<it>/users/<name>`. */
  APPROVAL_DEVICE_URL: httpUrl('APPROVAL_DEVICE_URL').optional(),
  /**
   * The workshop explorer at /explorer: each user signs in (realm client EXPLORER_CLIENT_ID) and sees their own tool
   * calls' token exchanges. off: no route, nothing recorded.
   */
  EXPLORER: z.enum(['on', 'off'], { error: '"EXPLORER" must be on or off' }).default('on'),
  EXPLORER_CLIENT_ID: z.string().min(1).default('workshop-explorer'),
  /**
   * The key that signs what this server hands out and takes back: the URL-elicitation requestState and the explorer's
   * session cookie (each under its own HKDF subkey). Every replica needs the same one. Generated, never derived from a
   * published value: `make up` writes one into .run/secrets/state-key. Unset: random per process (one replica only).
   */
  STATE_KEY: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .regex(
        /^[0-9a-fA-F]{64}$/,
        '"STATE_KEY" must be 64 hex characters (32 random bytes), e.g. from `openssl rand -hex 32`; `make up` generates one into .run/secrets/state-key',
      )
      .optional(),
  ),
  /**
   * On SIGTERM, how long requests in flight may take to finish before they are cut: above APPROVAL_TIMEOUT_S, so an
   * order awaiting approval can still complete (compose's stop_grace_period must be longer still).
   */
  SHUTDOWN_TIMEOUT_S: positiveInt('SHUTDOWN_TIMEOUT_S', 55),
  MAX_BODY_BYTES: positiveInt('MAX_BODY_BYTES', 1_000_000),
  MAX_TOKEN_BYTES: positiveInt('MAX_TOKEN_BYTES', 8192),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Config = Readonly<Omit<z.infer<typeof EnvSchema>, 'CLIENT_ID'>> & {
  /** The realm client used for token exchange (default: MCP_RESOURCE_URL, the client ID the realm gives it). */
  readonly CLIENT_ID: string;
  readonly resourceUrl: URL;
  readonly resourceMetadataUrl: URL;
  readonly publicOrigin: string;
  readonly internalOrigin: string;
  readonly cacheMode: 'memory' | 'redis' | 'off';
  /** STATE_KEY, or 32 random bytes of this process when it is unset (stateKeySource says which). */
  readonly stateKey: Buffer;
  readonly stateKeySource: 'config' | 'generated';
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment (process.env in main.ts, a plain object in tests) into a frozen Config. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return issue.message.includes(`"${key}"`) ? issue.message : `"${key}": ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const values = parsed.data;
  const resourceUrl = new URL(values.MCP_RESOURCE_URL);
  if (resourceUrl.hash || resourceUrl.search)
    throw new ConfigError('"MCP_RESOURCE_URL" must not have a query or fragment');
  const issuer = new URL(values.ISSUER_URL);
  const cacheMode = values.EXCHANGE_CACHE === 'auto' ? (values.REDIS_URL ? 'redis' : 'memory') : values.EXCHANGE_CACHE;
  if (cacheMode === 'redis' && !values.REDIS_URL)
    throw new ConfigError('"EXCHANGE_CACHE" is redis but "REDIS_URL" is not set');
  const resourcePath = resourceUrl.pathname === '/' ? '' : resourceUrl.pathname;
  return Object.freeze({
    ...values,
    CLIENT_ID: values.CLIENT_ID ?? values.MCP_RESOURCE_URL,
    ALLOWED_HOSTS: [...new Set([...values.ALLOWED_HOSTS, resourceUrl.hostname])],
    resourceUrl,
    resourceMetadataUrl: new URL(`/.well-known/oauth-protected-resource${resourcePath}`, resourceUrl),
    publicOrigin: issuer.origin,
    internalOrigin: values.KEYCLOAK_INTERNAL_URL ? new URL(values.KEYCLOAK_INTERNAL_URL).origin : issuer.origin,
    cacheMode,
    stateKey: values.STATE_KEY ? Buffer.from(values.STATE_KEY, 'hex') : randomBytes(32),
    stateKeySource: values.STATE_KEY ? 'config' : 'generated',
  });
}
