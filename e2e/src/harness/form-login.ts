// Signs a sandbox user in at Keycloak without a browser: follows the login form (and the consent form, if the client
// asks for consent) with a cookie jar, and returns the URL Keycloak finally redirects to, off its own origin (the
// client's redirect URI with the code). For refusal tests that only need a code; real clients use Chromium
// (harness/browser.ts).
import { createHash, randomBytes } from 'node:crypto';
import { SANDBOX_USERS } from '@sandbox/stack';

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Keycloak's error page message (#kc-error-message), tags stripped. */
export const keycloakErrorMessage = (html: string) =>
  (/id="kc-error-message">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export async function formLogin(authorizationUrl: URL, username: 'alice' | 'bob'): Promise<URL> {
  const user = SANDBOX_USERS.find((u) => u.username === username);
  if (!user) throw new Error(`unknown sandbox user ${username}`);
  const jar = new Map<string, string>();
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      if (at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  let response = await fetch(authorizationUrl, { redirect: 'manual' });
  remember(response);
  let html = await response.text();
  if (response.status !== 200)
    throw new Error(`authorization request: ${response.status} ${keycloakErrorMessage(html) || html.slice(0, 200)}`);
  let fields: Record<string, string> = { username, password: user.password, credentialId: '' };
  for (let step = 0; step < 4; step++) {
    const action = /<form[^>]*\saction="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
    if (!action) throw new Error(`no form on Keycloak's page: ${keycloakErrorMessage(html) || html.slice(0, 200)}`);
    let target = new URL(action, authorizationUrl);
    response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
      body: new URLSearchParams(fields),
    });
    remember(response);
    while (response.status === 302 || response.status === 303) {
      target = new URL(response.headers.get('location') ?? '', target);
      if (target.origin !== authorizationUrl.origin) return target;
      response = await fetch(target, { redirect: 'manual', headers: { cookie: cookie() } });
      remember(response);
    }
    html = await response.text();
    if (!/name="accept"/.test(html))
      throw new Error(`login step ${step}: ${response.status} ${keycloakErrorMessage(html) || html.slice(0, 200)}`);
    fields = { accept: 'Yes' };
  }
  throw new Error('Keycloak kept answering with forms');
}
