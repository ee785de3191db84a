// Parses the environment once, at startup, into a frozen config. Nothing else reads process.env.
import { z } from 'zod';
import { ConfigError, hostVar, integerVar, parseEnv, portVar, unsetIfEmpty } from '@sandbox/service-kit';

export { ConfigError };

const RULES = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'a hostname or IP address without scheme or port',
  KEYCLOAK_CALLBACK_URL:
    "an http(s) URL: Keycloak's CIBA callback endpoint (…/protocol/openid-connect/ext/ciba/auth/callback)",
  REQUEST_TTL_S: 'an integer from 10 to 86400 (seconds a request stays listed)',
} as const;
type VarName = keyof typeof RULES;

const schema = z.object({
  PORT: portVar('4100'),
  HOST: hostVar(),
  KEYCLOAK_CALLBACK_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && v.endsWith('/ext/ciba/auth/callback'))
      .default('http://localhost:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback'),
  ),
  REQUEST_TTL_S: integerVar('600', 10, 86400),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Variables this service reads; `.env.example` must list exactly these. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(RULES) as VarName[]);

/** Parses an environment object (pass `process.env` in main, a literal in tests). Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  return Object.freeze(parseEnv(schema, RULES, env));
}
