// Every environment variable the launcher reads, parsed once (zod) into frozen settings. Functions that need them
// take a StackSettings argument defaulting to stackSettings(), so tests pass their own instead of editing process.env.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackError } from './errors.ts';

export const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2';

const optional = (schema: z.ZodType) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
const httpUrl = (name: string) =>
  z.string().refine((value) => /^https?:\/\/[^/]/.test(value), `"${name}" must be an http(s) URL`);

const EnvSchema = z.object({
  SANDBOX_CACHE_DIR: optional(z.string()),
  XDG_CACHE_HOME: optional(z.string()),
  SANDBOX_MAVEN_REPO: optional(httpUrl('SANDBOX_MAVEN_REPO')),
  SANDBOX_FETCH_VIA: optional(z.enum(['maven', 'https'], { error: '"SANDBOX_FETCH_VIA" must be maven or https' })),
  STACK_READY_TIMEOUT_S: optional(
    z.coerce
      .number({ error: '"STACK_READY_TIMEOUT_S" must be a number of seconds' })
      .int()
      .positive('"STACK_READY_TIMEOUT_S" must be positive'),
  ),
  STACK_PROVIDER: optional(
    z.enum(['auto', 'native', 'compose'], { error: '"STACK_PROVIDER" must be auto, native or compose' }),
  ),
  NODE_EXTRA_CA_CERTS: optional(z.string()),
  SANDBOX_HOST: optional(
    z
      .string()
      .trim()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, '"SANDBOX_HOST" must be a host name such as workshop.lan'),
  ),
});

export interface StackSettings {
  /** Downloaded distributions, keyed by version; survives `make down` and fresh clones. */
  readonly cacheDir: string;
  /** The Maven repository of the HTTPS path: SANDBOX_MAVEN_REPO (a mirror, or a local server in tests), else Central. */
  readonly mavenRepo: string;
  /** `https` skips Maven (no route to Central from the user's Maven, or testing the fallback). */
  readonly fetchVia: 'maven' | 'https';
  readonly readyTimeoutMs: number;
  readonly provider: 'auto' | 'native' | 'compose';
  /** NODE_EXTRA_CA_CERTS (a TLS-intercepting proxy's CA): `make images` hands it to npm inside the image builds. */
  readonly extraCaCerts?: string;
  /** SANDBOX_HOST: the shared profile's host name (a room's LAN name); stack/src/shared.ts defaults it. */
  readonly sharedHost?: string;
  /** The environment child processes inherit (PATH, JAVA, JAVA_HOME, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function loadStackSettings(env: Readonly<Record<string, string | undefined>>): StackSettings {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new StackError(
      'bad_config',
      `Invalid launcher setting: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
      'fix or unset the variable named above (see README "Troubleshooting")',
    );
  }
  const v = parsed.data as {
    SANDBOX_CACHE_DIR?: string;
    XDG_CACHE_HOME?: string;
    SANDBOX_MAVEN_REPO?: string;
    SANDBOX_FETCH_VIA?: 'maven' | 'https';
    STACK_READY_TIMEOUT_S?: number;
    STACK_PROVIDER?: 'auto' | 'native' | 'compose';
    NODE_EXTRA_CA_CERTS?: string;
    SANDBOX_HOST?: string;
  };
  return Object.freeze({
    cacheDir: resolve(
      v.SANDBOX_CACHE_DIR ??
        (v.XDG_CACHE_HOME
          ? join(v.XDG_CACHE_HOME, 'mcp-keycloak-sandbox')
          : join(homedir(), '.cache', 'mcp-keycloak-sandbox')),
    ),
    mavenRepo: (v.SANDBOX_MAVEN_REPO ?? MAVEN_CENTRAL).replace(/\/+$/, ''),
    fetchVia: v.SANDBOX_FETCH_VIA ?? 'maven',
    readyTimeoutMs: (v.STACK_READY_TIMEOUT_S ?? 240) * 1000,
    provider: v.STACK_PROVIDER ?? 'auto',
    ...(v.NODE_EXTRA_CA_CERTS ? { extraCaCerts: resolve(v.NODE_EXTRA_CA_CERTS) } : {}),
    ...(v.SANDBOX_HOST ? { sharedHost: v.SANDBOX_HOST.toLowerCase() } : {}),
    env: Object.freeze({ ...env }),
  });
}

let loaded: StackSettings | undefined;
/** The settings of this process, parsed from its environment on first use. */
export function stackSettings(): StackSettings {
  loaded ??= loadStackSettings(process.env);
  return loaded;
}
