// The explorer's HTML: server-rendered (hono/html escapes every value), one small script that polls for new calls.
// Colours are chosen for contrast (text on the "differs" rows is about 15:1, the badge about 9:1); differences are
// also spelled out in text, never shown by colour alone.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { CallTrace, DecodedToken, DownstreamStep, SentRequest } from './calls.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1a1a1a;background:#fff;line-height:1.45}
a{color:#0a4fb8}
:focus-visible{outline:3px solid #0a4fb8;outline-offset:2px}
header{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap}
article{border:1px solid #8a8a8a;border-radius:6px;padding:0 1rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #b0b0b0;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5}
tr.differs td,tr.differs th{background:#fff1a8}
.badge{display:inline-block;background:#6b3500;color:#fff;border-radius:3px;padding:0 .35rem;font-size:.75rem;margin-left:.4rem}
pre{background:#f4f4f4;border:1px solid #b0b0b0;padding:.5rem;overflow-x:auto;font-size:.85rem}
.ok{color:#0b6b2b}.error{color:#a3150c}
button{font:inherit;padding:.35rem .9rem;border:2px solid #0a4fb8;background:#fff;color:#0a4fb8;border-radius:4px;cursor:pointer}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

/** Claims compared side by side, in this order; the four the workshop is about are always shown. */
const CLAIMS = [
  'iss',
  'sub',
  'preferred_username',
  'aud',
  'azp',
  'scope',
  'exp',
  'iat',
  'jti',
  'sid',
  'order_approval',
];
const ALWAYS = new Set(['aud', 'azp', 'scope', 'exp']);

export function layout(title: string, body: Html, script = ''): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <main>${body}</main>
        ${raw(script)}
      </body>
    </html>`;
}

export function signInPage(message?: string): Html {
  return layout(
    'Token exchange explorer — sign in',
    html`<h1>Token exchange explorer</h1>
      <p>
        Watch your own MCP tool calls: the token your client sent, the token the MCP server got for the stock API by
        token exchange (RFC 8693), and what each side decided. You see only your own calls, so sign in as the user your
        MCP client signed in as.
      </p>
      ${message ? html`<p role="alert" class="error">${message}</p>` : ''}
      <p><a href="/explorer/login" id="sign-in">Sign in with the sandbox (Keycloak)</a></p>`,
  );
}

const show = (value: unknown): string =>
  value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value);

function when(claim: string, value: unknown): string {
  if ((claim === 'exp' || claim === 'iat') && typeof value === 'number')
    return `${value} (${new Date(value * 1000).toISOString().replace('.000', '')})`;
  return show(value);
}

/** Both tokens' claims side by side; rows whose values differ are marked, in colour and in words. */
export function claimsTable(user: DecodedToken, exchanged: DecodedToken | undefined, caption: string): Html {
  const rows = CLAIMS.filter(
    (claim) => ALWAYS.has(claim) || claim in user.claims || (exchanged && claim in exchanged.claims),
  ).map((claim) => {
    const a = user.claims[claim];
    const b = exchanged?.claims[claim];
    const differs = exchanged !== undefined && show(a) !== show(b);
    return html`<tr${raw(differs ? ' class="differs"' : '')}><th scope="row">${claim}${
      differs ? html`<span class="badge">differs</span>` : ''
    }</th><td>${when(claim, a)}</td><td>${exchanged ? when(claim, b) : '—'}</td></tr>`;
  });
  return html`<table>
    <caption class="sr-only">
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">Claim</th>
        <th scope="col">Your token (sent to the MCP server), sha256 ${user.hash}</th>
        <th scope="col">Exchanged token (sent to the stock API)${exchanged ? `, sha256 ${exchanged.hash}` : ''}</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function sentRequest(request: SentRequest): string {
  const lines = [`${request.method} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  lines.push('');
  lines.push(
    Object.entries(request.form)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n&'),
  );
  return lines.join('\n');
}

function cacheWords(step: DownstreamStep): string {
  if (step.cache === 'hit') return 'hit: the exchanged token came from the cache; no request to Keycloak';
  if (step.cache === 'joined') return 'joined: another call was exchanging the same token; this one waited for it';
  if (step.cache === 'off') return 'off: the cache is disabled, every call exchanges';
  return `miss: exchanged at Keycloak${step.exchangeMs !== undefined ? ` in ${step.exchangeMs} ms` : ''}`;
}

function stepSection(trace: CallTrace, step: DownstreamStep, index: number): Html {
  const label = `${step.method} ${step.path}`;
  return html`<section aria-label="Stock API trip ${index + 1}: ${label}">
    <h3>${index + 1}. ${label} — scope <code>${step.scope}</code></h3>
    ${step.subjectHash ? html`<p>Subject of this exchange: the CIBA approval token (sha256 ${step.subjectHash}), not your sign-in token.</p>` : ''}
    <dl>
      <dt>Exchange cache</dt>
      <dd data-field="cache">${cacheWords(step)}</dd>
      <dt>Stock API decision</dt>
      <dd data-field="decision">
        ${step.status !== undefined ? `${step.status} ` : ''}${step.decision} (${step.ms} ms for exchange and call)
      </dd>
    </dl>
    ${step.exchangeError ? html`<p class="error" role="note">Keycloak refused the exchange (${step.exchangeError.code}): ${step.exchangeError.message}${step.exchangeError.keycloak ? ` — Keycloak said: ${step.exchangeError.keycloak}` : ''}</p>` : ''}
    ${
      step.exchangeRequest
        ? html`<h4>Exchange request as sent to Keycloak (secrets and tokens shown as hashes)</h4>
            <pre data-field="exchange-request">${sentRequest(step.exchangeRequest)}</pre>`
        : ''
    }
    ${claimsTable(trace.userToken, step.exchanged, `Claims of your token and of the token exchanged for ${label}`)}
  </section>`;
}

export function callArticle(trace: CallTrace): Html {
  const time = trace.at.slice(11, 19);
  return html`<article aria-labelledby="call-${trace.id}" data-tool="${trace.tool}" data-call-id="${trace.id}">
    <h2 id="call-${trace.id}">
      ${trace.tool} <span class="${trace.outcome}">${trace.outcome === 'ok' ? 'succeeded' : 'failed'}</span> at ${time}
      UTC, ${trace.totalMs} ms
    </h2>
    <p>Request id ${trace.requestId}; your token's jti ${show(trace.userToken.claims.jti)}.</p>
    ${trace.message ? html`<p class="error">${trace.message}</p>` : ''}
    ${
      trace.steps.length
        ? trace.steps.map((step, index) => stepSection(trace, step, index))
        : html`<p>This call did not reach the stock API, so nothing was exchanged.</p>
            ${claimsTable(trace.userToken, undefined, 'Claims of your token')}`
    }
  </article>`;
}

export function callsFragment(calls: readonly CallTrace[]): Html {
  if (calls.length === 0)
    return html`<p id="no-calls">
      No tool calls yet. Call a tool from your MCP client (for example <code>make call TOOL=get_portfolio</code>); it
      appears here within two seconds.
    </p>`;
  return html`${calls.map(callArticle)}`;
}

const POLL = `<script>
(() => {
  const list = document.getElementById('calls');
  const live = document.getElementById('live');
  let etag = list.dataset.etag;
  setInterval(async () => {
    try {
      const response = await fetch('/explorer/calls', { headers: { 'if-none-match': etag } });
      if (response.status === 401) { live.textContent = 'Signed out: reload the page to sign in again.'; return; }
      if (response.status !== 200) return;
      etag = response.headers.get('etag');
      list.innerHTML = await response.text();
      live.textContent = 'New call: ' + (list.querySelector('article h2')?.textContent ?? '').replace(/\\s+/g, ' ').trim();
    } catch { live.textContent = 'The MCP server is not answering; retrying.'; }
  }, 2000);
})();
</script>`;

export function explorerPage(
  user: { sub: string; username: string | undefined },
  calls: readonly CallTrace[],
  etag: string,
): Html {
  return layout(
    'Token exchange explorer',
    html`<header>
        <h1>Token exchange explorer</h1>
        <form method="post" action="/explorer/logout">
          <p>
            Signed in as <strong id="who">${user.username ?? user.sub}</strong> <button type="submit">Sign out</button>
          </p>
        </form>
      </header>
      <p>
        Each tool call your MCP client makes appears here, newest first: the token your client sent, the token the MCP
        server obtained for the stock API by token exchange (RFC 8693), the exchange request, whether the exchange cache
        answered, and what the stock API decided. Rows marked <span class="badge">differs</span> are the claims token
        exchange changed. Only your own calls are shown.
      </p>
      <p id="live" class="sr-only" role="status" aria-live="polite"></p>
      <div id="calls" data-etag="${etag}">${callsFragment(calls)}</div>`,
    POLL,
  );
}
