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
  PUBLIC_URL: 'an https origin without path, query or fragment (each client_id is this plus /clients/<name>.json)',
  TLS_CERT_FILE: 'the path of a PEM certificate for the PUBLIC_URL host (`make up` writes one signed by the local CA)',
  TLS_KEY_FILE: 'the path of the PEM private key of TLS_CERT_FILE',
  CACHE_MAX_AGE_S: 'an integer from 0 to 86400 (Cache-Control max-age of each document)',
} as const;

type VarName = keyof typeof RULES;

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const isHttpsOrigin = (value: string) =>
  URL.canParse(value) && new URL(value).protocol === 'https:' && new URL(value).origin === value.replace(/\/$/, '');
const integer = (fallback: string, max: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/)
    .default(fallback)
    .transform(Number)
    .pipe(z.number().int().min(0).max(max));

const schema = z.object({
  PORT: z.preprocess(unsetIfEmpty, integer('8443', 65535).pipe(z.number().min(1))),
  HOST: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]+$/)
      .default('127.0.0.1'),
  ),
  PUBLIC_URL: z.preprocess(
    unsetIfEmpty,
    z.string().refine(isHttpsOrigin).default('https://client-docs.localhost:8443'),
  ),
  TLS_CERT_FILE: z.string().min(1),
  TLS_KEY_FILE: z.string().min(1),
  CACHE_MAX_AGE_S: z.preprocess(unsetIfEmpty, integer('300', 86400)),
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
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = new Set(result.error.issues.map((issue) => String(issue.path[0]) as VarName));
    throw new ConfigError([...names].map((name) => `"${name}" must be ${RULES[name]}`));
  }
  return Object.freeze({ ...result.data, PUBLIC_URL: result.data.PUBLIC_URL.replace(/\/$/, '') });
}
