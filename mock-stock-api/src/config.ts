// Parses the environment once, at startup, into a frozen config. Nothing else reads process.env.
import { z } from 'zod';

/** Thrown when the environment is invalid; the message names each variable and what it must be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'invalid_config';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

// What each variable must be; used verbatim in the startup error.
const RULES = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'a hostname or IP address without scheme or port',
  ISSUER_URL: 'an http(s) URL without query or fragment (it must equal the "iss" claim exactly)',
  JWKS_URL: 'an http(s) URL',
  AUDIENCE: 'a non-empty string without spaces (the required "aud" value)',
  EXCHANGE_CLIENT_ID: 'a non-empty string without spaces (the required "azp": the client that performs token exchange)',
  APPROVAL_THRESHOLD_USD:
    "an integer from 0 to 100000000 (orders worth more need the user's approval: scope trade:approved)",
} as const;

type VarName = keyof typeof RULES;

const isHttpUrl = (value: string, allowSearch: boolean): boolean => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return allowSearch || (url.search === '' && url.hash === '' && !value.includes('?') && !value.includes('#'));
};

// Empty strings count as unset, as with most env tooling.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const token = z.string().regex(/^\S+$/);

const schema = z.object({
  PORT: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\d{1,5}$/)
      .default('4000')
      .transform(Number)
      .pipe(z.number().int().min(1).max(65535)),
  ),
  HOST: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]+$/)
      .default('127.0.0.1'),
  ),
  ISSUER_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => isHttpUrl(v, false))
      .default('http://localhost:8080/realms/sandbox'),
  ),
  JWKS_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => isHttpUrl(v, true))
      .optional(),
  ),
  AUDIENCE: z.preprocess(unsetIfEmpty, token.default('stock-api')),
  /** `azp` of exchanged tokens: the MCP server's client, whose ID is the MCP resource URL. */
  EXCHANGE_CLIENT_ID: z.preprocess(unsetIfEmpty, token.default('http://localhost:3000/mcp')),
  APPROVAL_THRESHOLD_USD: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^\d{1,9}$/)
      .default('5000')
      .transform(Number)
      .pipe(z.number().int().min(0).max(100_000_000)),
  ),
});

export type Config = Readonly<{
  PORT: number;
  HOST: string;
  /** Public issuer; compared byte-for-byte with the token's `iss`. */
  ISSUER_URL: string;
  /** Where keys are fetched; defaults to the issuer's certs endpoint. Differs in compose. */
  JWKS_URL: string;
  /** Required `aud` value. */
  AUDIENCE: string;
  /** Required `azp`: the client that obtained the token by token exchange. */
  EXCHANGE_CLIENT_ID: string;
  /** Orders worth more than this need a token with scope `trade:approved` (a CIBA approval). */
  APPROVAL_THRESHOLD_USD: number;
}>;

/** Variables this service reads; `.env.example` must list exactly these. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(RULES) as VarName[]);

/** Parses an environment object (pass `process.env` in main, a literal in tests). Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = new Set(result.error.issues.map((issue) => String(issue.path[0]) as VarName));
    throw new ConfigError([...names].map((name) => `"${name}" must be ${RULES[name]}`));
  }
  const { JWKS_URL, ...rest } = result.data;
  return Object.freeze({
    ...rest,
    JWKS_URL: JWKS_URL ?? `${rest.ISSUER_URL.replace(/\/+$/, '')}/protocol/openid-connect/certs`,
  });
}
