// The mock approval device, the user's own. Keycloak's CIBA HTTP authentication channel POSTs each authentication
// request to /ciba/requests with a bearer token it signed (channel.ts); the device verifies that token and files the
// request under the user it names. The user signs in with the realm (keycloak.ts), sees only their own requests on
// /users/<name>, and decides each once (requests.ts); the decision goes to Keycloak's CIBA callback endpoint with
// Keycloak's token. Every answer refuses framing; every request must name an allowed Host; every POST from a browser
// must come from this origin and carry the session's CSRF token (docs/approval.md, "The device's threat model").
// Tokens are kept in memory only and never rendered or logged (a hash is).
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { JWTVerifyGetKey } from 'jose';
import * as oidc from 'openid-client';
import { ChannelError, ChannelRequest, channelBearer, verifyChannelToken } from './channel.ts';
import type { Config } from './config.ts';
import { hostGuard, originGuard, pageHeaders } from './guards.ts';
import type { SignIn } from './keycloak.ts';
import { devicePage, messagePage, notYourDevicePage, signInPage } from './pages.ts';
import { createRequestStore } from './requests.ts';
import { createSessions, csrfMatches, localPath } from './session.ts';

export type LogWriter = (entry: Record<string, unknown>) => void;
export type { RequestView as ApprovalRequest } from './requests.ts';

export interface AppOptions {
  config: Config;
  log: LogWriter;
  /** The realm's keys (createRemoteJWKSet in main, a local set in tests): they verify Keycloak's channel token. */
  keys: JWTVerifyGetKey;
  /** Sign-in with the realm (openid-client in main, a fake in tests). */
  signIn: SignIn;
  /** Reaches Keycloak's callback endpoint (tests record it). */
  fetch?: typeof fetch;
  now?: () => number;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

export function createApp(options: AppOptions) {
  const { config, log, signIn } = options;
  const post = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const at = () => new Date(now()).toISOString();
  const store = createRequestStore({ ttlMs: config.REQUEST_TTL_S * 1000, now });
  const sessions = createSessions({ secure: config.PUBLIC_URL.startsWith('https:'), now });
  const app = new Hono();

  const refuse = (c: Context, status: 401 | 403 | 404 | 409 | 410, reason: string, title: string, text: string) => {
    log({ at: at(), level: 'warn', msg: 'refused', reason, method: c.req.method, path: c.req.path });
    return c.html(messagePage(title, text), status);
  };

  app.use('*', pageHeaders());
  app.use(
    '*',
    hostGuard(config.ALLOWED_HOSTS, (host) => {
      log({ at: at(), level: 'warn', msg: 'refused', reason: 'host', host: host.slice(0, 100) });
      return new Response(
        `Invalid Host header: this device answers only to ${config.ALLOWED_HOSTS.join(', ')} (DNS-rebinding guard).\n`,
        { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } },
      );
    }),
  );
  app.use(
    '*',
    originGuard(config.PUBLIC_URL, (origin) => {
      log({ at: at(), level: 'warn', msg: 'refused', reason: 'origin', origin: origin.slice(0, 100) });
      return new Response(
        `Cross-origin request refused: a form on ${config.PUBLIC_URL} may post here, not one on ${origin.slice(0, 100)}.\n`,
        {
          status: 403,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        },
      );
    }),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Keycloak's HTTP authentication channel. Only a token the realm signed for this request is accepted.
  app.post('/ciba/requests', async (c) => {
    let claims;
    let token: string;
    try {
      token = channelBearer(c.req.header('authorization'));
      claims = await verifyChannelToken(token, {
        keys: options.keys,
        issuer: config.ISSUER_URL,
        clients: config.CIBA_CLIENT_IDS,
        now,
      });
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error;
      const cause = error.cause instanceof Error ? error.cause.message : undefined;
      log({ at: at(), level: 'warn', msg: 'ciba_request_refused', code: error.code, reason: error.message, cause });
      c.header('www-authenticate', `Bearer error="invalid_token"`);
      return c.json({ error: 'invalid_token', error_description: error.message }, 401);
    }
    const parsed = ChannelRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success)
      return c.json(
        {
          error: 'invalid_request',
          error_description: `Not a CIBA authentication channel request: ${parsed.error.issues[0]?.message ?? 'bad body'}`,
        },
        400,
      );
    const request = store.add(claims, parsed.data, token);
    if (!request) {
      log({
        at: at(),
        level: 'warn',
        msg: 'ciba_request_refused',
        code: 'replayed',
        callbackTokenHash: tokenHash(token),
      });
      return c.json({ error: 'invalid_request', error_description: 'This channel token was already used.' }, 409);
    }
    log({
      at: request.receivedAt,
      level: 'info',
      msg: 'ciba_request',
      id: request.id,
      user: request.user,
      sub: claims.sub,
      client: claims.azp,
      bindingMessage: request.bindingMessage,
      expiresAt: request.expiresAt,
      callbackTokenHash: tokenHash(token),
    });
    return c.json({ id: request.id }, 201);
  });

  app.get('/', async (c) => {
    const session = await sessions.current(c);
    if (session) return c.redirect(`/users/${encodeURIComponent(session.username)}`, 302);
    return c.html(signInPage('/', c.req.query('signed-out') !== undefined ? 'You signed out.' : undefined));
  });

  app.get('/login', async (c) => {
    const back = localPath(c.req.query('back'));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    let url: URL;
    try {
      url = await signIn.authorizationUrl({
        state,
        codeChallenge: await oidc.calculatePKCECodeChallenge(verifier),
        ...(c.req.query('prompt') === 'login' ? { prompt: 'login' as const } : {}),
      });
    } catch (error) {
      log({ at: at(), level: 'warn', msg: 'sign_in_unavailable', cause: (error as Error).message });
      return c.html(signInPage(back, 'Keycloak is not reachable, so you cannot sign in yet. Is the stack up?'), 503);
    }
    await sessions.rememberSignIn(c, { state, verifier, back });
    return c.redirect(url.href, 302);
  });

  app.get('/callback', async (c) => {
    const pending = await sessions.takeSignIn(c);
    if (!pending)
      return c.html(signInPage('/', 'That sign-in expired or came from another browser; sign in again.'), 400);
    const callback = new URL(config.redirectUri);
    callback.search = new URL(c.req.url).search;
    try {
      const user = await signIn.finish(callback, pending);
      // A new sign-in in this browser ends the session it had (signing in as someone else is a sign-out first).
      const previous = await sessions.current(c);
      if (previous) sessions.end(c, previous.id);
      await sessions.start(c, user);
      log({ at: at(), level: 'info', msg: 'sign_in', sub: user.sub, user: user.username });
      return c.redirect(pending.back === '/' ? `/users/${encodeURIComponent(user.username)}` : pending.back, 302);
    } catch (error) {
      log({ at: at(), level: 'warn', msg: 'sign_in_failed', cause: (error as Error).message });
      return c.html(signInPage(pending.back, `Sign-in failed: ${(error as Error).message}. Try again.`), 400);
    }
  });

  app.post('/logout', async (c) => {
    const session = await sessions.current(c);
    if (!session) return c.redirect('/', 303);
    if (!csrfMatches(session, (await c.req.parseBody()).csrf))
      return refuse(
        c,
        403,
        'csrf',
        'Refused',
        'This sign-out did not come from your device page (no valid CSRF token).',
      );
    sessions.end(c, session.id);
    log({ at: at(), level: 'info', msg: 'sign_out', sub: session.sub, user: session.username });
    return c.redirect('/?signed-out', 303);
  });

  // The page the MCP server sends 2026-07-28 clients to (URL elicitation): <device>/users/<username>.
  app.get('/users/:user', async (c) => {
    const owner = c.req.param('user');
    const session = await sessions.current(c);
    if (!session)
      return c.redirect(`/login?back=${encodeURIComponent(localPath(`/users/${encodeURIComponent(owner)}`))}`, 302);
    if (session.username !== owner) {
      log({ at: at(), level: 'warn', msg: 'refused', reason: 'not_owner', user: session.username, page: owner });
      return c.html(notYourDevicePage(owner, session), 403);
    }
    return c.html(devicePage(session, store.listFor(session)));
  });

  /** JSON view of the signed-in user's own requests (scripts, tests): no tokens. */
  app.get('/requests', async (c) => {
    const session = await sessions.current(c);
    if (!session)
      return c.json(
        { error: 'unauthenticated', error_description: 'Sign in at /login first: you see only your own requests.' },
        401,
      );
    return c.json(store.listFor(session));
  });

  app.post('/requests/:id/decision', async (c) => {
    const session = await sessions.current(c);
    if (!session)
      return refuse(
        c,
        401,
        'unauthenticated',
        'Sign in first',
        'Only the signed-in owner of a request can decide it. Nothing was sent to Keycloak.',
      );
    const form = await c.req.parseBody();
    if (!csrfMatches(session, form.csrf))
      return refuse(
        c,
        403,
        'csrf',
        'Refused: not a form from your device',
        'This decision did not carry the CSRF token of your session, so it may come from another site. Nothing was sent to Keycloak. Open your device page and decide there.',
      );
    const decision = form.decision;
    if (decision !== 'approve' && decision !== 'deny')
      return c.html(messagePage('Choose Approve or Deny', 'The form named no decision.', session), 400);
    const claim = store.claim(c.req.param('id'), session);
    if (!claim.ok) {
      if (claim.reason === 'unknown')
        return refuse(
          c,
          404,
          'unknown_request',
          'No such request on your device',
          'It expired, was never here, or is not yours. Nothing was sent to Keycloak.',
        );
      if (claim.reason === 'expired')
        return refuse(
          c,
          410,
          'expired',
          'This request has expired',
          `Keycloak's request "${claim.request?.summary ?? ''}" expired at ${claim.request?.expiresAt ?? ''}, so deciding it now would neither place nor stop anything. Nothing was sent to Keycloak.`,
        );
      return refuse(
        c,
        409,
        'already_decided',
        'Already decided',
        `"${claim.request?.summary ?? ''}" is already ${claim.request?.status ?? 'decided'}: a request is decided once. Nothing was sent to Keycloak again.`,
      );
    }
    const request = claim.request;
    const status = decision === 'approve' ? 'SUCCEED' : 'UNAUTHORIZED';
    let settled;
    try {
      const response = await post(config.KEYCLOAK_CALLBACK_URL, {
        method: 'POST',
        headers: { authorization: `Bearer ${request.callbackToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
        signal: AbortSignal.timeout(5000),
      });
      if (response.ok)
        settled = store.settle(
          request.id,
          decision === 'approve' ? 'approved' : 'denied',
          `Keycloak accepted the decision (${response.status})`,
        );
      else {
        const text = (await response.text()).slice(0, 300);
        settled = store.settle(
          request.id,
          /expired/i.test(text) || now() >= request.expiresAtMs ? 'expired' : 'failed',
          `Keycloak refused the decision: ${response.status} ${text}`,
        );
      }
    } catch (error) {
      settled = store.settle(
        request.id,
        'failed',
        `Keycloak did not answer at ${config.KEYCLOAK_CALLBACK_URL}: ${(error as Error).message}`,
      );
    }
    log({
      at: at(),
      level: settled?.status === 'failed' ? 'error' : 'info',
      msg: 'ciba_decision',
      id: request.id,
      user: request.user,
      decision,
      status: settled?.status,
      outcome: settled?.outcome,
    });
    return c.redirect(`/users/${encodeURIComponent(session.username)}`, 303);
  });

  return app;
}
