// Parses the environment once, at startup, into a frozen config. Nothing else reads process.env.
import { z } from 'zod';
import { ConfigError, hostVar, integerVar, parseEnv, portVar, unsetIfEmpty } from '@sandbox/service-kit';

export { ConfigError };

const RULES = {
  PORT: 'an integer from 1 to 65535',
  HOST: 'a hostname or IP address without scheme or port',
  PUBLIC_URL:
    'an http(s) origin without path, query or fragment: this device as the browser sees it (sign-in comes back to <it>/callback)',
  ISSUER_URL: 'an http(s) URL without query or fragment (it must equal the "iss" Keycloak writes, exactly)',
  KEYCLOAK_INTERNAL_URL:
    "an http(s) origin without path: where this device reaches Keycloak when the issuer's host is not reachable from it (compose: http://keycloak:8080)",
  CLIENT_ID: 'a non-empty realm client ID without spaces (the public client users sign in to this device with)',
  CIBA_CLIENT_IDS:
    "a comma-separated list of realm client IDs (the clients whose CIBA requests this device shows: the channel token's azp)",
  ALLOWED_HOSTS: 'a comma-separated list of hostnames (the Host header must name one; the public URL host is added)',
  KEYCLOAK_CALLBACK_URL:
    "an http(s) URL: Keycloak's CIBA callback endpoint (…/protocol/openid-connect/ext/ciba/auth/callback)",
  REQUEST_TTL_S: 'an integer from 10 to 86400 (seconds a request stays listed)',
} as const;
type VarName = keyof typeof RULES;

const noQuery = (value: string) => !value.includes('?') && !value.includes('#');
const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
const isOrigin = (value: string) => {
  if (!isHttpUrl(value) || !noQuery(value)) return false;
  const url = new URL(value);
  return url.pathname === '/' && !url.username && !url.password;
};
const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .refine((items) => items.length > 0 && items.every((item) => /^\S+$/.test(item)));

const schema = z.object({
  PORT: portVar('4100'),
  HOST: hostVar(),
  PUBLIC_URL: z.preprocess(unsetIfEmpty, z.string().refine(isOrigin).default('http://localhost:4100')),
  ISSUER_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => isHttpUrl(v) && noQuery(v))
      .default('http://localhost:8080/realms/sandbox'),
  ),
  KEYCLOAK_INTERNAL_URL: z.preprocess(unsetIfEmpty, z.string().refine(isOrigin).optional()),
  CLIENT_ID: z.preprocess(unsetIfEmpty, z.string().regex(/^\S+$/).default('approval-device')),
  CIBA_CLIENT_IDS: z.preprocess(unsetIfEmpty, list.default(['http://localhost:3000/mcp'])),
  ALLOWED_HOSTS: z.preprocess(unsetIfEmpty, list.default(['localhost', '127.0.0.1', '[::1]'])),
  KEYCLOAK_CALLBACK_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => isHttpUrl(v) && v.endsWith('/ext/ciba/auth/callback'))
      .optional(),
  ),
  REQUEST_TTL_S: integerVar('600', 10, 86400),
});

type Parsed = z.infer<typeof schema>;

export type Config = Readonly<
  Omit<Parsed, 'CIBA_CLIENT_IDS' | 'ALLOWED_HOSTS' | 'KEYCLOAK_CALLBACK_URL' | 'PUBLIC_URL'> & {
    /** The public origin, without a trailing slash: the only Origin a state-changing request may carry. */
    PUBLIC_URL: string;
    CIBA_CLIENT_IDS: readonly string[];
    /** Lower-case hostnames (any port); always includes PUBLIC_URL's host. */
    ALLOWED_HOSTS: readonly string[];
    /** Where decisions go: as configured, else the issuer's callback endpoint reached through KEYCLOAK_INTERNAL_URL. */
    KEYCLOAK_CALLBACK_URL: string;
    /** `<PUBLIC_URL>/callback`: the sign-in redirect URI, as the realm client lists it. */
    redirectUri: string;
    /** The issuer's JWKS, reached through KEYCLOAK_INTERNAL_URL when set. */
    jwksUrl: string;
    /** Where this device sends requests meant for the issuer's origin: KEYCLOAK_INTERNAL_URL, else that origin. */
    keycloakOrigin: string;
  }
>;

/** Variables this service reads; `.env.example` must list exactly these. */
export const CONFIG_VARIABLES = Object.freeze(Object.keys(RULES) as VarName[]);

/** Parses an environment object (pass `process.env` in main, a literal in tests). Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const values = parseEnv(schema, RULES, env);
  const issuer = values.ISSUER_URL.replace(/\/$/, '');
  const publicOrigin = new URL(values.PUBLIC_URL).origin;
  const issuerOrigin = new URL(issuer).origin;
  const internal = values.KEYCLOAK_INTERNAL_URL ? new URL(values.KEYCLOAK_INTERNAL_URL).origin : issuerOrigin;
  const toInternal = (url: string) => internalUrl(url, issuerOrigin, internal);
  return Object.freeze({
    PORT: values.PORT,
    HOST: values.HOST,
    ISSUER_URL: values.ISSUER_URL,
    KEYCLOAK_INTERNAL_URL: values.KEYCLOAK_INTERNAL_URL,
    CLIENT_ID: values.CLIENT_ID,
    REQUEST_TTL_S: values.REQUEST_TTL_S,
    PUBLIC_URL: publicOrigin,
    CIBA_CLIENT_IDS: Object.freeze([...values.CIBA_CLIENT_IDS]),
    ALLOWED_HOSTS: Object.freeze([
      ...new Set([...values.ALLOWED_HOSTS.map((h) => h.toLowerCase()), new URL(publicOrigin).hostname]),
    ]),
    KEYCLOAK_CALLBACK_URL:
      values.KEYCLOAK_CALLBACK_URL ?? toInternal(`${issuer}/protocol/openid-connect/ext/ciba/auth/callback`),
    redirectUri: `${publicOrigin}/callback`,
    jwksUrl: toInternal(`${issuer}/protocol/openid-connect/certs`),
    keycloakOrigin: internal,
  });
}

/** `url` with the issuer's origin replaced by the internal one (compose: keycloak:8080); other URLs unchanged. */
export function internalUrl(url: string, issuerOrigin: string, internalOrigin: string): string {
  return url === issuerOrigin || url.startsWith(`${issuerOrigin}/`)
    ? internalOrigin + url.slice(issuerOrigin.length)
    : url;
}
