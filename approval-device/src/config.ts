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

const RULES = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'a hostname or IP address without scheme or port',
  KEYCLOAK_CALLBACK_URL:
    "an http(s) URL: Keycloak's CIBA callback endpoint (…/protocol/openid-connect/ext/ciba/auth/callback)",
  REQUEST_TTL_S: 'an integer from 10 to 86400 (seconds a request stays listed)',
} as const;
type VarName = keyof typeof RULES;

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const integer = (fallback: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/)
    .default(fallback)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  PORT: z.preprocess(unsetIfEmpty, integer('4100', 1, 65535)),
  HOST: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]+$/)
      .default('127.0.0.1'),
  ),
  KEYCLOAK_CALLBACK_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && v.endsWith('/ext/ciba/auth/callback'))
      .default('http://localhost:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback'),
  ),
  REQUEST_TTL_S: z.preprocess(unsetIfEmpty, integer('600', 10, 86400)),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Variables this service reads; `.env.example` must list exactly these. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(RULES) as VarName[]);

/** Parses an environment object (pass `process.env` in main, a literal in tests). Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const names = new Set(result.error.issues.map((issue) => String(issue.path[0]) as VarName));
    throw new ConfigError([...names].map((name) => `"${name}" must be ${RULES[name]}`));
  }
  return Object.freeze(result.data);
}
