// Checks every request passes before any route sees it: the Host header (DNS rebinding), the Origin of state-changing
// requests (cross-site and cross-port forms), and the headers that keep every page out of frames (clickjacking).
import type { MiddlewareHandler } from 'hono';

/** What the headers say to the browser on every answer: no framing, no sniffing, no caching of a user's requests. */
export const PAGE_HEADERS = Object.freeze({
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the device's own form POSTs,
  // which the Origin check must refuse (found by e2e/src/approval.test.ts).
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
});

const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** The hostname a Host header names (lower case, IPv6 in brackets), or undefined when it is not a plain host[:port]. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host || !HOST.test(host)) return undefined;
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1).toLowerCase() : host.split(':')[0]?.toLowerCase();
}

/** Sets PAGE_HEADERS on every response, refusals included. */
export function pageHeaders(): MiddlewareHandler {
  return async function pageHeadersMiddleware(c, next) {
    await next();
    for (const [name, value] of Object.entries(PAGE_HEADERS)) c.res.headers.set(name, value);
  };
}

/**
 * 403 unless the Host header names one of `allowed` (any port). A page a DNS-rebinding attacker serves from their own
 * name, resolved to 127.0.0.1, reaches this loopback device with Host = that name, and is refused here.
 */
export function hostGuard(allowed: readonly string[], refuse: (host: string) => Response): MiddlewareHandler {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return async function hostGuardMiddleware(c, next) {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const name = hostnameOf(host);
    if (!name || !names.has(name)) return refuse(host);
    await next();
  };
}

/**
 * 403 for a POST whose Origin header is present and not `origin` (`null` included). Browsers send Origin with every
 * cross-origin POST and with same-origin ones too (Chromium, Firefox, Safari), so a form on another site, or on another
 * port of localhost (same site, so SameSite=Lax cookies ride along), is refused before its body is read.
 */
export function originGuard(origin: string, refuse: (origin: string) => Response): MiddlewareHandler {
  return async function originGuardMiddleware(c, next) {
    const sent = c.req.header('origin');
    if (c.req.method === 'POST' && sent !== undefined && sent !== origin) return refuse(sent);
    await next();
  };
}
