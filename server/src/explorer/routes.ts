// The workshop explorer's routes under /explorer: sign-in with the sandbox realm (authorization code + PKCE,
// openid-client), a signed cookie naming a server-side session (store.ts: memory or Redis), and the page showing only
// that user's calls. Sign-out deletes the session record, so a copied cookie stops working at once (a cookie that only
// carried the user and an expiry stayed valid for 8 h after sign-out).
import { Hono, type Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import type { KeycloakClient } from '../exchange/keycloak.ts';
import type { Logger } from '../log.ts';
import type { CallStore } from './calls.ts';
import type { ExplorerSession, SessionStore } from './store.ts';
import { callsFragment, explorerPage, signInPage } from './page.ts';

export interface ExplorerOptions {
  store: CallStore;
  sessions: SessionStore;
  keycloak: KeycloakClient;
  logger: Logger;
  /** The realm client the explorer signs users in with (public, PKCE). */
  clientId: string;
  /** Where Keycloak sends the browser back: `<this server's public origin>/explorer/callback`. */
  redirectUri: string;
  /** Signs the session and sign-in cookies (a subkey of STATE_KEY: keys.ts). */
  cookieKey: string;
}

const SESSION = 'explorer_session';
const LOGIN = 'explorer_login';
const SESSION_SECONDS = 8 * 3600;

export function explorerRoutes(options: ExplorerOptions): Hono {
  const app = new Hono();
  const secret = options.cookieKey;
  const secure = options.redirectUri.startsWith('https:');
  const cookieOptions = (maxAge: number) =>
    ({ path: '/explorer', httpOnly: true, sameSite: 'Lax', secure, maxAge }) as const;
  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store'); // a shared machine's back button must not show the previous user's calls
    // No framing: a page of someone's tokens has no business inside another site's frame (clickjacking).
    c.header('x-frame-options', 'DENY');
    c.header('content-security-policy', "frame-ancestors 'none'");
  });

  // A second openid-client Configuration on the same discovery (and the same internal-URL fetch) as the exchanger's.
  let configuration: Promise<oidc.Configuration> | undefined;
  const explorerClient = () => {
    configuration ??= options.keycloak
      .configuration()
      .then((server) => {
        const config = new oidc.Configuration(server.serverMetadata(), options.clientId, undefined, oidc.None());
        const fetchThrough = server[oidc.customFetch];
        if (fetchThrough) config[oidc.customFetch] = fetchThrough;
        if (server.serverMetadata().issuer.startsWith('http:')) oidc.allowInsecureRequests(config);
        return config;
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };

  async function session(c: Context): Promise<ExplorerSession | undefined> {
    const id = await getSignedCookie(c, secret, SESSION);
    return id ? options.sessions.get(id) : undefined;
  }

  app.get('/', async (c) => {
    const user = await session(c);
    if (!user) return c.html(signInPage());
    const [calls, latest] = await Promise.all([options.store.list(user.sub), options.store.latest(user.sub)]);
    return c.html(explorerPage(user, calls, `"${latest}"`));
  });

  app.get('/calls', async (c) => {
    const user = await session(c);
    if (!user) return c.text('Sign in at /explorer first.', 401);
    const etag = `"${await options.store.latest(user.sub)}"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    c.header('etag', etag);
    return c.html(callsFragment(await options.store.list(user.sub)));
  });

  app.get('/login', async (c) => {
    let config: oidc.Configuration;
    try {
      config = await explorerClient();
    } catch (error) {
      options.logger.log('warn', 'explorer: Keycloak discovery failed', { message: (error as Error).message });
      return c.html(
        signInPage('Keycloak is not reachable, so you cannot sign in yet. Is the stack up (make up)?'),
        503,
      );
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    await setSignedCookie(c, LOGIN, JSON.stringify({ verifier, state }), secret, cookieOptions(600));
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: options.redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    return c.redirect(url.href, 302);
  });

  app.get('/callback', async (c) => {
    const login = await getSignedCookie(c, secret, LOGIN);
    deleteCookie(c, LOGIN, { path: '/explorer' });
    if (!login) return c.html(signInPage('That sign-in expired or came from another browser; sign in again.'), 400);
    const { verifier, state } = JSON.parse(login) as { verifier: string; state: string };
    const back = new URL(options.redirectUri);
    back.search = new URL(c.req.url).search;
    try {
      const tokens = await oidc.authorizationCodeGrant(await explorerClient(), back, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('Keycloak returned no ID token');
      const user: ExplorerSession = {
        sub: claims.sub,
        username: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
        exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS,
      };
      await setSignedCookie(c, SESSION, await options.sessions.open(user), secret, cookieOptions(SESSION_SECONDS));
      options.logger.log('info', 'explorer sign-in', { sub: user.sub });
      return c.redirect('/explorer', 302);
    } catch (error) {
      options.logger.log('warn', 'explorer sign-in failed', { message: (error as Error).message });
      return c.html(signInPage(`Sign-in failed: ${(error as Error).message}. Try again.`), 400);
    }
  });

  app.post('/logout', async (c) => {
    const id = await getSignedCookie(c, secret, SESSION);
    if (id && (await options.sessions.revoke(id))) options.logger.log('info', 'explorer sign-out');
    else if (id) options.logger.log('warn', 'explorer sign-out: no session to end (expired, or the store is down)');
    deleteCookie(c, SESSION, { path: '/explorer' });
    return c.redirect('/explorer', 303);
  });

  return app;
}
