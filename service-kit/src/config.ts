// Environment parsing for the small services: each parses process.env once, at startup, into a frozen config, and an
// invalid variable is named with what it must be (the service's RULES), never a zod dump.
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

/** Empty strings count as unset, as with most env tooling. */
export const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

/** A whole number of at most `digits` digits, from `min` to `max`; `fallback` when unset or empty. */
export const integerVar = (fallback: string, min: number, max: number, digits = 5) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(new RegExp(`^\\d{1,${digits}}$`))
      .default(fallback)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
  );

export const portVar = (fallback: string) => integerVar(fallback, 1, 65535);

/** A hostname or IP address to listen on, without scheme or port; 127.0.0.1 when unset. */
export const hostVar = () =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9.:\-[\]]+$/)
      .default('127.0.0.1'),
  );

/**
 * Parses `env` with `schema`; throws ConfigError naming each invalid variable with its rule from `rules`.
 *
 *   const values = parseEnv(schema, RULES, process.env);
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  rules: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const names = new Set(result.error.issues.map((issue) => String(issue.path[0])));
  throw new ConfigError([...names].map((name) => `"${name}" must be ${rules[name] ?? 'valid'}`));
}
