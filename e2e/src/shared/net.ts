// HTTP for the shared profile's suite: a fetch that resolves the shared host (sandbox.localhost, which Node's resolver
// does not map, or a room's name) to 127.0.0.1 and trusts the sandbox's local CA, built on node:http(s) so it needs no
// dependency; and Keycloak's login form over HTTP, each request optionally sent to one node directly.
import { createHash, randomBytes } from 'node:crypto';
import { SANDBOX_USERS } from '@sandbox/stack';

export { loopbackFetch } from '@sandbox/stack';

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Keycloak's error page message (#kc-error-message), tags stripped. */
const errorMessage = (html: string) =>
  (/id="kc-error-message">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim() || html.slice(0, 300);

export interface FormLoginOptions {
  fetch: typeof fetch;
  /**
   * Where each request to Keycloak goes: the URL as Keycloak wrote it (the balancer) unless this returns another
   * (e.g. one node's own port). `step` 0 is the authorization request, then 1, 2, … for each form post and redirect.
   */
  route?: (url: URL, step: number) => URL;
}

/**
 * Signs `username` in at Keycloak over HTTP: the authorization request, the login form, the consent form if shown.
 * Returns the URL Keycloak finally redirects to off its own origin (the client's redirect URI with code, state, iss).
 */
export async function formLogin(
  authorizationUrl: URL,
  username: 'alice' | 'bob',
  options: FormLoginOptions,
): Promise<URL> {
  const user = SANDBOX_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`unknown sandbox user ${username}`);
  const route = options.route ?? ((url: URL) => url);
  const jar = new Map<string, string>();
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      if (at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  let step = 0;
  const send = async (url: URL, init: RequestInit = {}) => {
    const response = await options.fetch(route(url, step++), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: cookie() },
    });
    remember(response);
    return response;
  };
  let response = await send(authorizationUrl);
  let html = await response.text();
  if (response.status !== 200) throw new Error(`authorization request: ${response.status} ${errorMessage(html)}`);
  let fields: Record<string, string> = { username, password: user.password, credentialId: '' };
  for (let form = 0; form < 4; form++) {
    const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    if (!action) throw new Error(`no form on Keycloak's page: ${errorMessage(html)}`);
    let target = new URL(action, authorizationUrl);
    response = await send(target, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    while (response.status === 302 || response.status === 303) {
      target = new URL(response.headers.get('location') ?? '', target);
      if (target.origin !== authorizationUrl.origin) return target;
      response = await send(target);
    }
    html = await response.text();
    if (!/name="accept"/.test(html)) throw new Error(`login step ${form}: ${response.status} ${errorMessage(html)}`);
    fields = { accept: 'Yes' };
  }
  throw new Error('Keycloak kept answering with forms');
}
