// A cookie jar over fetch: what a browser keeps between Keycloak's login form, its consent form and the approval
// device's sign-in. Enough for the scale run's HTTP-level attendees (no browser per attendee).

export interface HttpSession {
  fetch(url: URL | string, init?: RequestInit): Promise<Response>;
  /** Follows redirects by hand (keeping cookies) until `stop` says so or a page answers; returns the last response. */
  follow(url: URL | string, stop?: (url: URL) => boolean): Promise<{ response: Response; url: URL }>;
}

/** `fetchFn`: how requests go out (default: the global fetch; the shared profile's suite maps its host to loopback). */
export function httpSession(fetchFn: typeof fetch = fetch): HttpSession {
  const jar = new Map<string, Map<string, string>>();
  const cookieFor = (url: URL) =>
    [...(jar.get(url.host) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ');
  const remember = (url: URL, response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const cookies = jar.get(url.host) ?? new Map<string, string>();
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
      jar.set(url.host, cookies);
    }
  };
  async function send(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = cookieFor(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetchFn(target, { ...init, headers, redirect: 'manual' });
    remember(target, response);
    return response;
  }
  return {
    fetch: send,
    async follow(url, stop = () => false) {
      let target = new URL(url);
      let response = await send(target);
      for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
        target = new URL(response.headers.get('location') ?? '', target);
        if (stop(target)) return { response, url: target };
        await response.body?.cancel();
        response = await send(target);
      }
      return { response, url: target };
    },
  };
}

/**
 * Signs in at Keycloak from an authorization URL: the login form, then the consent form if shown. Returns the URL
 * Keycloak redirects to off its own origin (the client's redirect URI with the code), without requesting it.
 */
export async function signInAtKeycloak(
  session: HttpSession,
  authorizationUrl: URL,
  credentials: { username: string; password: string },
): Promise<URL> {
  const keycloak = authorizationUrl.origin;
  let { response, url } = await session.follow(authorizationUrl, (u) => u.origin !== keycloak);
  if (url.origin !== keycloak) return url; // already signed in: straight back with a code
  let html = await response.text();
  let fields: Record<string, string> = { ...credentials, credentialId: '' };
  for (let step = 0; step < 4; step++) {
    const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    if (!action) throw new Error(`sign-in: no form on Keycloak's page (${response.status})`);
    response = await session.fetch(new URL(action, url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.origin !== keycloak) return next;
      ({ response, url } = await session.follow(next, (u) => u.origin !== keycloak));
      if (url.origin !== keycloak) return url;
    }
    html = await response.text();
    if (!/name="accept"/.test(html)) throw new Error(`sign-in: step ${step} answered ${response.status}`);
    fields = { accept: 'Yes' };
  }
  throw new Error('sign-in: Keycloak kept answering with forms');
}
