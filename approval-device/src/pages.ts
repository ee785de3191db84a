// The device's HTML: server-rendered (hono/html escapes every value), no script. Labelled buttons, visible focus,
// high contrast. Every form carries the session's CSRF token.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { RequestView } from './requests.ts';
import type { Session } from './session.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** High-contrast, large targets; focus stays visible. */
const STYLE = `body{font:18px/1.5 system-ui,sans-serif;margin:0;background:#fff;color:#111}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.request{border:2px solid #111;border-radius:8px;padding:1rem;margin:1rem 0}
button{font:inherit;padding:.6rem 1.4rem;margin-right:.6rem;border-radius:6px;border:2px solid #111;cursor:pointer;background:#fff;color:#111}
button[value=approve]{background:#0b5d1e;color:#fff}button[value=deny]{background:#fff;color:#8b0000;border-color:#8b0000}
.alert{border-left:6px solid #8b0000;padding:.2rem 1rem}
:focus-visible{outline:3px solid #1a4fd6;outline-offset:2px}a{color:#1a4fd6}code{background:#f1f1f1;padding:0 .2rem}`;

export function layout(title: string, body: Html): Html {
  return html`<!doctype html>
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
    </html>`;
}

const signOutForm = (session: Session) =>
  html`<form method="post" action="/logout">
    <input type="hidden" name="csrf" value="${session.csrf}" />
    <button type="submit">Sign out ${session.username}</button>
  </form>`;

/** Not signed in: what the device is, and the way in. */
export function signInPage(back: string, message?: string): Html {
  return layout(
    'Approval device',
    html`<p>This stands in for the phone on which a user approves what an agent wants to do (OpenID CIBA).</p>
      ${message ? html`<p role="alert" class="alert">${message}</p>` : ''}
      <p>Only you see your requests: sign in as the user the agent acts for.</p>
      <p><a id="sign-in" href="/login?back=${encodeURIComponent(back)}">Sign in with the sandbox (Keycloak)</a></p>`,
  );
}

/** The signed-in user's own device. */
export function devicePage(session: Session, requests: RequestView[]): Html {
  const pending = requests.filter((r) => r.status === 'pending');
  const decided = requests.filter((r) => r.status !== 'pending');
  const path = `/users/${encodeURIComponent(session.username)}`;
  return layout(
    `${session.username}'s device`,
    html`<p><a href="${path}">Refresh</a></p>
      ${signOutForm(session)}
      <h2>Waiting for your decision (${pending.length})</h2>
      ${pending.length === 0 ? html`<p>Nothing to approve.</p>` : ''}
      ${pending.map(
        (r) =>
          html`<section class="request" aria-labelledby="h-${r.id}" data-request-id="${r.id}">
            <h3 id="h-${r.id}">${r.summary}</h3>
            <p>Binding message: <code>${r.bindingMessage}</code>. Received ${r.receivedAt}; expires ${r.expiresAt}.</p>
            <p>Grants: <code>${r.scope}</code> to <code>${r.client}</code></p>
            <form method="post" action="/requests/${r.id}/decision">
              <input type="hidden" name="csrf" value="${session.csrf}" />
              <button type="submit" name="decision" value="approve" aria-label="Approve: ${r.summary}">Approve</button>
              <button type="submit" name="decision" value="deny" aria-label="Deny: ${r.summary}">Deny</button>
            </form>
          </section>`,
      )}
      <h2>Decided</h2>
      ${decided.length === 0 ? html`<p>None yet.</p>` : ''}
      <ul>
        ${decided.map(
          (r) =>
            html`<li data-request-id="${r.id}">
              <strong>${r.status}</strong>: ${r.summary} <small>(${r.outcome ?? ''})</small>
            </li>`,
        )}
      </ul>`,
  );
}

/** Signed in as someone else than the page's user. */
export function notYourDevicePage(owner: string, session: Session): Html {
  return layout(
    `This is ${owner}'s device`,
    html`<p role="alert" class="alert">
        You are signed in as <strong>${session.username}</strong>. Only ${owner} can see and decide ${owner}'s requests,
        after signing in as ${owner}.
      </p>
      <p>Your own device: <a href="/users/${encodeURIComponent(session.username)}">/users/${session.username}</a></p>
      <p>
        <a href="/login?prompt=login&amp;back=${encodeURIComponent(`/users/${encodeURIComponent(owner)}`)}"
          >Sign in as ${owner}</a
        >
        (Keycloak asks for ${owner}'s password; your session here ends)
      </p>
      ${signOutForm(session)}`,
  );
}

/** A refusal or an outcome that needs a sentence and a way back. */
export function messagePage(title: string, message: string, session?: Session): Html {
  return layout(
    title,
    html`<p role="alert" class="alert">${message}</p>
      <p>
        ${
          session
            ? html`<a href="/users/${encodeURIComponent(session.username)}">Back to your device</a>`
            : html`<a href="/">Approval device</a>`
        }
      </p>`,
  );
}
