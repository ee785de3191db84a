// Parses the environment once, at startup, into a frozen config. Nothing else reads process.env.
import { z } from 'zod';
import { ConfigError, hostVar, integerVar, parseEnv, portVar, unsetIfEmpty } from '@sandbox/service-kit';

export { ConfigError };

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

const token = z.string().regex(/^\S+$/);

const schema = z.object({
  PORT: portVar('4000'),
  HOST: hostVar(),
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
  APPROVAL_THRESHOLD_USD: integerVar('5000', 0, 100_000_000, 9),
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
  const { JWKS_URL, ...rest } = parseEnv(schema, RULES, env);
  return Object.freeze({
    ...rest,
    JWKS_URL: JWKS_URL ?? `${rest.ISSUER_URL.replace(/\/+$/, '')}/protocol/openid-connect/certs`,
  });
}
