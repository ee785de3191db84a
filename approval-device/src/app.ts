// The mock approval device. Keycloak's CIBA HTTP authentication channel POSTs each authentication request to
// /ciba/requests (with a bearer token for the callback); the user's page /users/<name> lists their pending requests
// with the binding message and Approve / Deny, and a decision is reported to Keycloak's CIBA callback endpoint.
// Plain server-rendered HTML, no script. Tokens are kept in memory only and never rendered or logged (a hash is).
import { createHash, randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { html, raw } from 'hono/html';
import { z } from 'zod';
import type { Config } from './config.ts';

export type LogWriter = (entry: Record<string, unknown>) => void;
type Status = 'pending' | 'approved' | 'denied' | 'expired' | 'failed';

export interface ApprovalRequest {
  id: string;
  user: string;
  bindingMessage: string;
  /** The binding message as words: the MCP server writes "Buy-40-ACME-…" because Keycloak allows no spaces. */
  summary: string;
  scope: string;
  receivedAt: string;
  status: Status;
  /** What Keycloak answered to the decision (failed: why). */
  outcome?: string;
}

/** The request body Keycloak's HttpAuthenticationChannelProvider sends (AuthenticationChannelRequest). */
const ChannelRequest = z.object({
  login_hint: z.string().min(1).max(255),
  binding_message: z.string().max(255).optional(),
  scope: z.string().max(1024).optional(),
  is_consent_required: z.boolean().optional(),
  acr_values: z.string().optional(),
});

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

export function createApp(options: { config: Config; log: LogWriter; fetch?: typeof fetch; now?: () => number }) {
  const { config, log } = options;
  const post = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const requests = new Map<string, ApprovalRequest & { callbackToken: string; expiresAt: number }>();
  const app = new Hono();

  const sweep = () => {
    for (const [id, r] of requests) if (now() > r.expiresAt) requests.delete(id);
  };
  const publicView = ({
    callbackToken: _t,
    expiresAt: _e,
    ...view
  }: ApprovalRequest & { callbackToken: string; expiresAt: number }) => view;

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.post('/ciba/requests', async (c) => {
    const bearer = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    if (!bearer)
      return c.json(
        { error: 'invalid_request', error_description: 'Keycloak sends a bearer token for the callback; none came.' },
        401,
      );
    const parsed = ChannelRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success)
      return c.json(
        {
          error: 'invalid_request',
          error_description: `Not a CIBA authentication channel request: ${parsed.error.issues[0]?.message ?? 'bad body'}`,
        },
        400,
      );
    sweep();
    const message = parsed.data.binding_message ?? '(no binding message)';
    const request = {
      id: randomUUID(),
      user: parsed.data.login_hint,
      bindingMessage: message,
      summary: message.replace(/-/g, ' '),
      scope: parsed.data.scope ?? '',
      receivedAt: new Date(now()).toISOString(),
      status: 'pending' as Status,
      callbackToken: bearer,
      expiresAt: now() + config.REQUEST_TTL_S * 1000,
    };
    requests.set(request.id, request);
    log({
      at: request.receivedAt,
      level: 'info',
      msg: 'ciba_request',
      id: request.id,
      user: request.user,
      bindingMessage: message,
      callbackTokenHash: tokenHash(bearer),
    });
    return c.json({ id: request.id }, 201);
  });

  /** JSON view for scripts and tests: no tokens. */
  app.get('/requests', (c) => {
    sweep();
    const user = c.req.query('user');
    return c.json([...requests.values()].filter((r) => !user || r.user === user).map(publicView));
  });

  app.post('/requests/:id/decision', async (c) => {
    const request = requests.get(c.req.param('id'));
    if (!request)
      return page(c, 404, 'No such request', html`<p>It expired or was never here. <a href="/">All users</a></p>`);
    const form = await c.req.parseBody();
    const decision = form.decision;
    if (decision !== 'approve' && decision !== 'deny')
      return page(c, 400, 'Choose Approve or Deny', html`<p><a href="/users/${request.user}">Back</a></p>`);
    if (request.status !== 'pending') return c.redirect(`/users/${encodeURIComponent(request.user)}`, 303);
    const status = decision === 'approve' ? 'SUCCEED' : 'UNAUTHORIZED';
    try {
      const response = await post(config.KEYCLOAK_CALLBACK_URL, {
        method: 'POST',
        headers: { authorization: `Bearer ${request.callbackToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status }),
        signal: AbortSignal.timeout(5000),
      });
      if (response.ok) {
        request.status = decision === 'approve' ? 'approved' : 'denied';
        request.outcome = `Keycloak accepted the decision (${response.status})`;
      } else {
        const text = (await response.text()).slice(0, 300);
        request.status = /expired/i.test(text) ? 'expired' : 'failed';
        request.outcome = `Keycloak refused the decision: ${response.status} ${text}`;
      }
    } catch (error) {
      request.status = 'failed';
      request.outcome = `Keycloak did not answer at ${config.KEYCLOAK_CALLBACK_URL}: ${(error as Error).message}`;
    }
    log({
      at: new Date(now()).toISOString(),
      level: request.status === 'failed' ? 'error' : 'info',
      msg: 'ciba_decision',
      id: request.id,
      user: request.user,
      decision,
      status: request.status,
      outcome: request.outcome,
    });
    return c.redirect(`/users/${encodeURIComponent(request.user)}`, 303);
  });

  app.get('/', (c) => {
    sweep();
    const users = [...new Set([...requests.values()].map((r) => r.user))].sort();
    return page(
      c,
      200,
      'Approval device',
      html`<p>This stands in for the phone on which a user approves what an agent wants to do (OpenID CIBA).</p>
        ${
          users.length
            ? html`<ul>
                ${users.map((u) => html`<li><a href="/users/${encodeURIComponent(u)}">${u}</a> (${[...requests.values()].filter((r) => r.user === u && r.status === 'pending').length} pending)</li>`)}
              </ul>`
            : html`<p>No requests yet. Open <a href="/users/alice">/users/alice</a> to watch alice's device.</p>`
        }`,
    );
  });

  app.get('/users/:user', (c) => {
    sweep();
    const user = c.req.param('user');
    const mine = [...requests.values()]
      .filter((r) => r.user === user)
      .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
    const pending = mine.filter((r) => r.status === 'pending');
    const decided = mine.filter((r) => r.status !== 'pending');
    return page(
      c,
      200,
      `${user}'s device`,
      html`<p><a href="/users/${encodeURIComponent(user)}">Refresh</a> · <a href="/">All users</a></p>
        <h2>Waiting for your decision (${pending.length})</h2>
        ${pending.length === 0 ? html`<p>Nothing to approve.</p>` : ''}
        ${pending.map(
          (r) =>
            html`<section class="request" aria-labelledby="h-${r.id}" data-request-id="${r.id}">
              <h3 id="h-${r.id}">${r.summary}</h3>
              <p>Binding message: <code>${r.bindingMessage}</code>. Received ${r.receivedAt}.</p>
              <p>Grants: <code>${r.scope}</code></p>
              <form method="post" action="/requests/${r.id}/decision">
                <button type="submit" name="decision" value="approve" aria-label="Approve: ${r.summary}">
                  Approve
                </button>
                <button type="submit" name="decision" value="deny" aria-label="Deny: ${r.summary}">Deny</button>
              </form>
            </section>`,
        )}
        <h2>Decided</h2>
        ${decided.length === 0 ? html`<p>None yet.</p>` : ''}
        <ul>
          ${decided.map((r) => html`<li data-request-id="${r.id}"><strong>${r.status}</strong>: ${r.summary} <small>(${r.outcome ?? ''})</small></li>`)}
        </ul>`,
    );
  });

  const page = (c: Context, status: 200 | 400 | 404, title: string, body: unknown) =>
    c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>${title} · MCP sandbox approval device</title>
            <style>
              ${raw(STYLE)}
            </style>
          </head>
          <body>
            <main>
              <h1>${title}</h1>
              ${body}
            </main>
          </body>
        </html>`,
      status,
    );

  return app;
}

/** High-contrast, large targets; focus stays visible. */
const STYLE = `body{font:18px/1.5 system-ui,sans-serif;margin:0;background:#fff;color:#111}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.request{border:2px solid #111;border-radius:8px;padding:1rem;margin:1rem 0}
button{font:inherit;padding:.6rem 1.4rem;margin-right:.6rem;border-radius:6px;border:2px solid #111;cursor:pointer}
button[value=approve]{background:#0b5d1e;color:#fff}button[value=deny]{background:#fff;color:#8b0000;border-color:#8b0000}
:focus-visible{outline:3px solid #1a4fd6;outline-offset:2px}a{color:#1a4fd6}code{background:#f1f1f1;padding:0 .2rem}`;
