// Parses the environment once, at startup, into a frozen config. Nothing else reads process.env.
import { z } from 'zod';
import { ConfigError, hostVar, integerVar, parseEnv, portVar, unsetIfEmpty } from '@sandbox/service-kit';

export { ConfigError };

// What each variable must be; used verbatim in the startup error.
const RULES = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'a hostname or IP address without scheme or port',
  PUBLIC_URL: 'an https origin without path, query or fragment (each client_id is this plus /clients/<name>.json)',
  TLS_CERT_FILE: 'the path of a PEM certificate for the PUBLIC_URL host (`make up` writes one signed by the local CA)',
  TLS_KEY_FILE: 'the path of the PEM private key of TLS_CERT_FILE',
  CACHE_MAX_AGE_S: 'an integer from 0 to 86400 (Cache-Control max-age of each document)',
} as const;

type VarName = keyof typeof RULES;

const isHttpsOrigin = (value: string) =>
  URL.canParse(value) && new URL(value).protocol === 'https:' && new URL(value).origin === value.replace(/\/$/, '');
const schema = z.object({
  PORT: portVar('8443'),
  HOST: hostVar(),
  PUBLIC_URL: z.preprocess(
    unsetIfEmpty,
    z.string().refine(isHttpsOrigin).default('https://client-docs.localhost:8443'),
  ),
  TLS_CERT_FILE: z.string().min(1),
  TLS_KEY_FILE: z.string().min(1),
  CACHE_MAX_AGE_S: integerVar('300', 0, 86400),
});

export type Config = Readonly<{
  PORT: number;
  HOST: string;
  /** Public origin, without a trailing slash. */
  PUBLIC_URL: string;
  TLS_CERT_FILE: string;
  TLS_KEY_FILE: string;
  CACHE_MAX_AGE_S: number;
}>;

/** Variables this service reads; `.env.example` must list exactly these. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(RULES) as VarName[]);

/** Parses an environment object (pass `process.env` in main, a literal in tests). Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const values = parseEnv(schema, RULES, env);
  return Object.freeze({ ...values, PUBLIC_URL: values.PUBLIC_URL.replace(/\/$/, '') });
}
