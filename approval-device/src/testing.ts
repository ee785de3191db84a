// Test helpers for the device, in process: a realm key and channel tokens shaped as Keycloak's
// HttpAuthenticationChannelProvider makes them, a fake realm sign-in, and a browser with a cookie jar for app.request.
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createApp, type LogWriter } from './app.ts';
import { loadConfig } from './config.ts';
import type { DeviceUser, SignIn } from './keycloak.ts';

export const ISSUER = 'http://localhost:8080/realms/sandbox';
export const MCP_CLIENT = 'http://localhost:3000/mcp';
export const DEVICE = 'http://localhost:4100';
export const USERS: Record<'alice' | 'bob', DeviceUser> = {
  alice: { sub: '8128df31-aaaa-4a4a-8a8a-000000000001', username: 'alice' },
  bob: { sub: '5d0c1b2e-bbbb-4b4b-8b8b-000000000002', username: 'bob' },
};
export const CALLBACK = `${ISSUER}/protocol/openid-connect/ext/ciba/auth/callback`;

const realm = await generateKeyPair('RS256');
const stranger = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(realm.publicKey)), kid: 'realm-key', alg: 'RS256', use: 'sig' };
export const realmJwks = createLocalJWKSet({ keys: [jwk] });

/** A channel token as Keycloak writes it (claims from createBearerToken), with `changes` applied (undefined deletes). */
export async function channelToken(
  at: number,
  changes: Partial<Record<keyof JWTPayload | 'typ' | 'azp', unknown>> = {},
  options: { key?: 'realm' | 'stranger'; kid?: string } = {},
): Promise<string> {
  const iat = Math.floor(at / 1000);
  const claims: Record<string, unknown> = {
    typ: 'Bearer',
    iss: ISSUER,
    jti: randomUUID(),
    azp: MCP_CLIENT,
    aud: ISSUER,
    iat,
    exp: iat + 120,
    sub: USERS.alice.sub,
    ...changes,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  const key: CryptoKey = (options.key === 'stranger' ? stranger : realm).privateKey;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? 'realm-key' })
    .sign(key);
}

/** Stands in for Keycloak's login: the code names the user, and the state must be the one the device sent. */
export const fakeSignIn: SignIn = {
  async authorizationUrl({ state, codeChallenge, prompt }) {
    const url = new URL(`${ISSUER}/protocol/openid-connect/auth`);
    url.search = new URLSearchParams({
      state,
      code_challenge: codeChallenge,
      ...(prompt ? { prompt } : {}),
    }).toString();
    return url;
  },
  async finish(callback, { state }) {
    if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
    const user = USERS[callback.searchParams.get('code') as 'alice' | 'bob'];
    if (!user) throw new Error('invalid_grant');
    return user;
  },
};

export type Answer = (body: string) => Response | Promise<Response>;

/** A device with a frozen clock, a recorded callback endpoint and recorded logs. */
export function device(answer: Answer = () => new Response(null, { status: 200 }), env: Record<string, string> = {}) {
  const calls: Array<{ url: string; authorization: string | null; body: string }> = [];
  const logged: Array<Record<string, unknown>> = [];
  let clock = Date.parse('2026-11-23T10:00:00Z');
  const log: LogWriter = (entry) => logged.push(entry);
  const app = createApp({
    config: loadConfig({ REQUEST_TTL_S: '60', ...env }),
    log,
    keys: realmJwks,
    signIn: fakeSignIn,
    now: () => clock,
    fetch: async (url, init) => {
      const body = String(init?.body);
      calls.push({ url: String(url), authorization: new Headers(init?.headers).get('authorization'), body });
      return answer(body);
    },
  });
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', 'localhost:4100');
    return app.request(`${DEVICE}${path}`, { ...init, headers });
  };
  /** What Keycloak's channel posts: the body and a bearer token (a fresh valid one unless given). */
  const channel = async (body: unknown, token?: string) =>
    request('/ciba/requests', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token ?? (await channelToken(clock))}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  return {
    app,
    calls,
    logged,
    request,
    channel,
    now: () => clock,
    advance: (ms: number) => (clock += ms),
    browser: () => new Browser(request),
  };
}

/** A browser on the device: keeps its cookies, follows nothing by itself, sends Origin as browsers do on POST. */
export class Browser {
  readonly cookies = new Map<string, string>();
  private readonly send: (path: string, init?: RequestInit) => Promise<Response>;
  constructor(send: (path: string, init?: RequestInit) => Promise<Response>) {
    this.send = send;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.keep(await this.send(path, { headers: { ...this.cookieHeader(), ...headers } }));
  }

  /** A form POST; `origin` defaults to the device's own (what a browser sends for a form on the page). */
  async post(path: string, form: Record<string, string>, options: { origin?: string | null } = {}): Promise<Response> {
    const origin = options.origin === undefined ? DEVICE : options.origin;
    return this.keep(
      await this.send(path, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...this.cookieHeader(),
          ...(origin === null ? {} : { origin }),
        },
        body: new URLSearchParams(form).toString(),
      }),
    );
  }

  /** Signs in as `user` the way a browser does: the page, /login, Keycloak (fake), /callback, back to the page. */
  async signIn(user: 'alice' | 'bob'): Promise<Response> {
    const first = await this.get(`/users/${user}`);
    const login = first.headers.get('location') ?? '/login';
    const toKeycloak = await this.get(login);
    const state = new URL(toKeycloak.headers.get('location') ?? '').searchParams.get('state') ?? '';
    return this.get(`/callback?${new URLSearchParams({ code: user, state, iss: ISSUER })}`);
  }

  /** The CSRF token the signed-in page's forms carry. */
  async csrf(user: 'alice' | 'bob'): Promise<string> {
    const page = await (await this.get(`/users/${user}`)).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error(`no CSRF token on ${user}'s page:\n${page}`);
    return token;
  }

  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {};
  }

  private keep(response: Response): Response {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (attributes.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return response;
  }
}

export const ORDER = {
  login_hint: 'alice',
  binding_message: 'Buy-40-ACME-at-142.35-USD-total-5694.00',
  scope: 'openid trade:write trade:approved',
  is_consent_required: false,
};
