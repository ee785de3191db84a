import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALLBACK, channelToken, device, ISSUER, ORDER, USERS } from './testing.ts';

const idOf = async (response: Response) => ((await response.json()) as { id: string }).id;

describe('approval device: the channel from Keycloak', () => {
  it("accepts Keycloak's channel request and lists it on the user's page with the message in words", async () => {
    const d = device();
    const token = await channelToken(d.now());
    const res = await d.channel(ORDER, token);
    assert.equal(res.status, 201);
    const id = await idOf(res);
    const alice = d.browser();
    await alice.signIn('alice');
    const page = await (await alice.get('/users/alice')).text();
    assert.match(page, /Buy 40 ACME at 142\.35 USD total 5694\.00/);
    assert.match(page, new RegExp(`data-request-id="${id}"`));
    assert.match(page, /<button type="submit" name="decision" value="approve" aria-label="Approve: Buy 40 ACME/);
    assert.match(page, /to <code>http:\/\/localhost:3000\/mcp<\/code>/, 'names the client that asked');
    const signature = token.split('.')[2] ?? '';
    assert.ok(!page.includes(signature), 'the channel token must never be rendered');
    assert.ok(!JSON.stringify(d.logged).includes(signature), 'the channel token must never be logged');
  });

  it('refuses a channel request without a bearer token with 401', async () => {
    const d = device();
    const res = await d.request('/ciba/requests', { method: 'POST', body: JSON.stringify(ORDER) });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error_description: string }).error_description, /No bearer token/);
  });

  // Each is a token Keycloak's channel would never send; each must be refused with 401 and file nothing.
  const forged: Array<[string, (at: number) => Promise<string>, RegExp]> = [
    ['a bearer that is not a JWT', async () => 'not-a-jwt', /Not a token signed by the realm/],
    [
      'a token signed by a key the realm does not publish',
      (at) => channelToken(at, {}, { kid: 'other' }),
      /does not publish/,
    ],
    [
      'a token signed by another key under the realm kid',
      (at) => channelToken(at, {}, { key: 'stranger' }),
      /signature is invalid/,
    ],
    [
      'a token from another issuer',
      (at) => channelToken(at, { iss: 'http://localhost:8080/realms/other' }),
      /not issued by/,
    ],
    [
      'a token for another audience',
      (at) => channelToken(at, { aud: 'http://localhost:3000/mcp' }),
      /audience must be the realm/,
    ],
    ['an expired token', (at) => channelToken(at, { exp: Math.floor(at / 1000) - 60 }), /expired/],
    ['a token whose typ is not Bearer', (at) => channelToken(at, { typ: 'ID' }), /"typ" must be "Bearer"/],
    ['a token from a client other than the MCP server', (at) => channelToken(at, { azp: 'impostor' }), /"impostor"/],
    ['a token naming no user', (at) => channelToken(at, { sub: undefined }), /"sub"/],
    ['a token naming no request', (at) => channelToken(at, { jti: undefined }), /"jti"/],
  ];
  for (const [what, token, reason] of forged)
    it(`refuses ${what} with 401 invalid_token and lists nothing`, async () => {
      const d = device();
      const res = await d.channel(ORDER, await token(d.now()));
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_token');
      assert.match(body.error_description, reason);
      const alice = d.browser();
      await alice.signIn('alice');
      assert.deepEqual(await (await alice.get('/requests')).json(), []);
    });

  it('accepts a channel token once: a copy posted again (another prompt, same jti) gets 409', async () => {
    const d = device();
    const token = await channelToken(d.now());
    assert.equal((await d.channel(ORDER, token)).status, 201);
    const again = await d.channel({ ...ORDER, binding_message: 'Buy-1-ACME' }, token);
    assert.equal(again.status, 409);
    const alice = d.browser();
    await alice.signIn('alice');
    assert.equal(((await (await alice.get('/requests')).json()) as unknown[]).length, 1);
  });

  it('refuses a malformed body with 400', async () => {
    const d = device();
    assert.equal((await d.channel({ binding_message: 'x' })).status, 400);
  });

  it("files a request under the token's user only when the body's login_hint is that user's name too", async () => {
    const d = device();
    // Signed for alice's ID, but the body names bob: neither alice nor bob is shown it.
    await d.channel({ ...ORDER, login_hint: 'bob' }, await channelToken(d.now(), { sub: USERS.alice.sub }));
    for (const user of ['alice', 'bob'] as const) {
      const b = d.browser();
      await b.signIn(user);
      assert.deepEqual(await (await b.get('/requests')).json(), [], `${user} must not see it`);
    }
  });
});

describe('approval device: only the signed-in owner sees and decides', () => {
  it('sends an unsigned visitor of /users/alice to sign-in and back to /users/alice', async () => {
    const d = device();
    const b = d.browser();
    const first = await b.get('/users/alice');
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/login?back=%2Fusers%2Falice');
    const login = await b.get('/login?back=%2Fusers%2Falice');
    assert.equal(login.status, 302);
    const authorize = new URL(login.headers.get('location') ?? '');
    assert.equal(authorize.origin + authorize.pathname, `${ISSUER}/protocol/openid-connect/auth`);
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
    const back = await b.get(`/callback?code=alice&state=${authorize.searchParams.get('state')}`);
    assert.equal(back.status, 302);
    assert.equal(back.headers.get('location'), '/users/alice');
    assert.equal((await b.get('/users/alice')).status, 200);
  });

  it('refuses a sign-in callback this browser did not start', async () => {
    const d = device();
    const res = await d.browser().get('/callback?code=alice&state=guessed');
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expired or came from another browser/);
  });

  it('never sends a signed-in user off the device after sign-in (back= is a local path only)', async () => {
    const d = device();
    for (const back of ['https://evil.example/', '//evil.example', '/users/../../evil', '/\\evil.example']) {
      const b = d.browser();
      const login = await b.get(`/login?back=${encodeURIComponent(back)}`);
      const state = new URL(login.headers.get('location') ?? '').searchParams.get('state');
      const res = await b.get(`/callback?code=alice&state=${state}`);
      assert.equal(res.headers.get('location'), '/users/alice', back);
    }
  });

  it("answers bob on alice's page with 403 saying whose device it is, and shows him none of her requests", async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const bob = d.browser();
    await bob.signIn('bob');
    const res = await bob.get('/users/alice');
    assert.equal(res.status, 403);
    const page = await res.text();
    assert.match(page, /This is alice&#39;s device/);
    assert.match(page, /signed in as <strong>bob<\/strong>/);
    assert.match(page, /href="\/login\?prompt=login&amp;back=%2Fusers%2Falice"/, 'offers signing in as alice');
    assert.doesNotMatch(page, /ACME|data-request-id/);
    assert.deepEqual(await (await bob.get('/requests')).json(), []);
    assert.doesNotMatch(await (await bob.get('/users/bob')).text(), new RegExp(id));
  });

  it("answers the JSON view without a session with 401, and with one with only that user's requests", async () => {
    const d = device();
    await d.channel(ORDER);
    await d.channel({ ...ORDER, login_hint: 'bob' }, await channelToken(d.now(), { sub: USERS.bob.sub }));
    assert.equal((await d.request('/requests')).status, 401);
    assert.equal((await d.request('/requests?user=alice')).status, 401);
    const alice = d.browser();
    await alice.signIn('alice');
    const mine = (await (await alice.get('/requests?user=bob')).json()) as Array<{ user: string }>;
    assert.deepEqual(
      mine.map((r) => r.user),
      ['alice'],
    );
  });

  it('refuses a decision without a session with 401 and calls Keycloak for none', async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const res = await d.browser().post(`/requests/${id}/decision`, { decision: 'approve' });
    assert.equal(res.status, 401);
    assert.equal(d.calls.length, 0);
  });

  it("refuses bob's decision on alice's request with 404, even with his own valid CSRF token", async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const bob = d.browser();
    await bob.signIn('bob');
    const res = await bob.post(`/requests/${id}/decision`, { decision: 'approve', csrf: await bob.csrf('bob') });
    assert.equal(res.status, 404);
    assert.equal(d.calls.length, 0);
  });

  it("refuses a decision without the CSRF token, or with another session's, with 403 and calls Keycloak for none", async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const alice = d.browser();
    await alice.signIn('alice');
    const other = d.browser();
    await other.signIn('alice');
    const missing = await alice.post(`/requests/${id}/decision`, { decision: 'approve' });
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /CSRF token/);
    const foreign = await alice.post(`/requests/${id}/decision`, {
      decision: 'approve',
      csrf: await other.csrf('alice'),
    });
    assert.equal(foreign.status, 403);
    const truncated = (await alice.csrf('alice')).slice(0, -1);
    assert.equal((await alice.post(`/requests/${id}/decision`, { decision: 'approve', csrf: truncated })).status, 403);
    assert.equal(d.calls.length, 0);
  });

  it('refuses a decision whose Origin is another origin (another port of localhost too) with 403', async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const alice = d.browser();
    await alice.signIn('alice');
    const csrf = await alice.csrf('alice');
    for (const origin of ['http://evil.example', 'http://localhost:3000', 'null']) {
      const res = await alice.post(`/requests/${id}/decision`, { decision: 'approve', csrf }, { origin });
      assert.equal(res.status, 403, origin);
      assert.match(await res.text(), /Cross-origin request refused/);
    }
    assert.equal(d.calls.length, 0);
    // No Origin at all (a client that does not send one) still needs the CSRF token, and passes with it.
    assert.equal(
      (await alice.post(`/requests/${id}/decision`, { decision: 'approve', csrf }, { origin: null })).status,
      303,
    );
    assert.equal(d.calls.length, 1);
  });

  it("ends bob's session when alice signs in in the same browser", async () => {
    const d = device();
    const b = d.browser();
    await b.signIn('bob');
    const bobs = new Map(b.cookies);
    const login = await b.get('/login?prompt=login&back=%2Fusers%2Falice');
    assert.equal(new URL(login.headers.get('location') ?? '').searchParams.get('prompt'), 'login');
    const state = new URL(login.headers.get('location') ?? '').searchParams.get('state');
    assert.equal((await b.get(`/callback?code=alice&state=${state}`)).headers.get('location'), '/users/alice');
    assert.equal((await b.get('/users/alice')).status, 200);
    const replay = d.browser();
    for (const [name, value] of bobs) replay.cookies.set(name, value);
    assert.equal((await replay.get('/users/bob')).status, 302, "bob's session outlived alice's sign-in");
  });

  it('revokes the session at sign-out: the same cookie afterwards is signed out', async () => {
    const d = device();
    await d.channel(ORDER);
    const alice = d.browser();
    await alice.signIn('alice');
    const stolen = new Map(alice.cookies);
    const csrf = await alice.csrf('alice');
    assert.equal((await alice.post('/logout', {})).status, 403, 'sign-out needs the CSRF token');
    assert.equal((await alice.get('/users/alice')).status, 200, 'a refused sign-out leaves the session');
    const out = await alice.post('/logout', { csrf });
    assert.equal(out.status, 303);
    const replay = d.browser();
    for (const [name, value] of stolen) replay.cookies.set(name, value);
    assert.equal((await replay.get('/users/alice')).status, 302, 'the old cookie still opened the device');
    assert.equal((await replay.get('/requests')).status, 401);
  });
});

describe('approval device: each decision once, to Keycloak', () => {
  it('reports Approve as SUCCEED and Deny as UNAUTHORIZED to the callback, with the bearer Keycloak sent', async () => {
    const d = device();
    const tokenA = await channelToken(d.now());
    const tokenB = await channelToken(d.now());
    const first = await idOf(await d.channel(ORDER, tokenA));
    const second = await idOf(await d.channel({ ...ORDER, binding_message: 'Sell-5-WAYNE' }, tokenB));
    const alice = d.browser();
    await alice.signIn('alice');
    const csrf = await alice.csrf('alice');
    const approved = await alice.post(`/requests/${first}/decision`, { decision: 'approve', csrf });
    assert.equal(approved.status, 303);
    assert.equal(approved.headers.get('location'), '/users/alice');
    assert.equal((await alice.post(`/requests/${second}/decision`, { decision: 'deny', csrf })).status, 303);
    assert.deepEqual(
      d.calls.map((c) => [c.url, c.authorization, c.body]),
      [
        [CALLBACK, `Bearer ${tokenA}`, '{"status":"SUCCEED"}'],
        [CALLBACK, `Bearer ${tokenB}`, '{"status":"UNAUTHORIZED"}'],
      ],
    );
    const list = (await (await alice.get('/requests')).json()) as Array<{ id: string; status: string }>;
    assert.deepEqual(Object.fromEntries(list.map((r) => [r.id, r.status])), {
      [first]: 'approved',
      [second]: 'denied',
    });
    assert.ok(!JSON.stringify(list).includes(tokenA.slice(0, 20)), 'the JSON view holds no token');
  });

  it('decides once: a replayed decision gets 409 "Already decided" and no second callback', async () => {
    const d = device();
    const id = await idOf(await d.channel(ORDER));
    const alice = d.browser();
    await alice.signIn('alice');
    const form = { decision: 'approve', csrf: await alice.csrf('alice') };
    assert.equal((await alice.post(`/requests/${id}/decision`, form)).status, 303);
    const replay = await alice.post(`/requests/${id}/decision`, { ...form, decision: 'deny' });
    assert.equal(replay.status, 409);
    assert.match(await replay.text(), /Already decided[\s\S]*already approved/);
    assert.equal(d.calls.length, 1);
  });

  it('decides once under concurrency: two POSTs while Keycloak is still answering the first yield one callback', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const d = device(async () => {
      await held;
      return new Response(null, { status: 200 });
    });
    const id = await idOf(await d.channel(ORDER));
    const alice = d.browser();
    await alice.signIn('alice');
    const form = { decision: 'approve', csrf: await alice.csrf('alice') };
    const first = alice.post(`/requests/${id}/decision`, form);
    for (let waited = 0; d.calls.length === 0 && waited < 5000; waited += 5)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(d.calls.length, 1, 'the first decision never reached Keycloak');
    // Keycloak is still answering the first; the second must be refused at once, not wait for Keycloak itself.
    const second = alice.post(`/requests/${id}/decision`, { ...form, decision: 'deny' });
    const early = await Promise.race([
      second.then((r) => r.status),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for Keycloak'), 5000)),
    ]);
    release();
    assert.equal((await first).status, 303);
    assert.equal(early, 409);
    assert.equal((await second).status, 409);
    assert.deepEqual(
      d.calls.map((c) => c.body),
      ['{"status":"SUCCEED"}'],
    );
  });

  it("refuses a decision after Keycloak's request expired with 410 and no callback", async () => {
    const d = device();
    const id = await idOf(
      await d.channel(ORDER, await channelToken(d.now(), { exp: Math.floor(d.now() / 1000) + 30 })),
    );
    const alice = d.browser();
    await alice.signIn('alice');
    const csrf = await alice.csrf('alice');
    d.advance(31_000);
    const res = await alice.post(`/requests/${id}/decision`, { decision: 'approve', csrf });
    assert.equal(res.status, 410);
    assert.match(await res.text(), /has expired[\s\S]*Nothing was sent to Keycloak/);
    assert.equal(d.calls.length, 0);
    const [request] = (await (await alice.get('/requests')).json()) as Array<{ status: string }>;
    assert.equal(request?.status, 'expired');
  });

  it("shows Keycloak's refusal when the request expired there, and says so", async () => {
    const d = device(() => new Response('{"error":"expired_token"}', { status: 400 }));
    const id = await idOf(await d.channel(ORDER));
    const alice = d.browser();
    await alice.signIn('alice');
    await alice.post(`/requests/${id}/decision`, { decision: 'approve', csrf: await alice.csrf('alice') });
    const [request] = (await (await alice.get('/requests')).json()) as Array<{ status: string; outcome: string }>;
    assert.equal(request?.status, 'expired');
    assert.match(request?.outcome ?? '', /Keycloak refused the decision: 400/);
  });

  it("forgets requests after their TTL (and after Keycloak's expiry)", async () => {
    const d = device();
    await d.channel(ORDER, await channelToken(d.now(), { exp: Math.floor(d.now() / 1000) + 30 }));
    const alice = d.browser();
    await alice.signIn('alice');
    d.advance(61_000);
    assert.deepEqual(await (await alice.get('/requests')).json(), []);
  });
});

describe('approval device: Host and framing', () => {
  it('refuses a foreign Host (DNS rebinding) with 403 on every route, before anything else', async () => {
    const d = device();
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/users/alice'],
      ['GET', '/requests'],
      ['GET', '/healthz'],
      ['POST', '/ciba/requests'],
    ] as const) {
      for (const host of ['attacker.example', 'attacker.example:4100', 'localhost.attacker.example', 'a@localhost']) {
        const res = await d.request(path, { method, headers: { host } });
        assert.equal(res.status, 403, `${method} ${path} Host: ${host}`);
        assert.match(await res.text(), /Invalid Host header/);
      }
    }
  });

  it('answers the allowed names on any port, and the configured extra ones (compose: approval-device)', async () => {
    const d = device();
    for (const host of ['localhost:4100', '127.0.0.1:14300', '[::1]:4100', 'LOCALHOST'])
      assert.equal((await d.request('/healthz', { headers: { host } })).status, 200, host);
    assert.equal((await d.request('/healthz', { headers: { host: 'approval-device:4100' } })).status, 403);
    const compose = device(undefined, { ALLOWED_HOSTS: 'localhost,approval-device' });
    assert.equal((await compose.request('/healthz', { headers: { host: 'approval-device:4100' } })).status, 200);
  });

  it('refuses framing on every answer: pages, redirects, JSON and refusals', async () => {
    const d = device();
    const alice = d.browser();
    const answers = [
      await d.request('/'),
      await alice.get('/users/alice'), // a redirect to sign-in
      await d.request('/requests'), // 401 JSON
      await d.request('/healthz', { headers: { host: 'attacker.example' } }),
      await d.browser().post('/requests/x/decision', {}, { origin: 'http://evil.example' }),
    ];
    await alice.signIn('alice');
    answers.push(await alice.get('/users/alice'), await alice.get('/users/bob'));
    for (const res of answers) {
      assert.equal(res.headers.get('x-frame-options'), 'DENY', `${res.status} ${res.url}`);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      // Under no-referrer, Chromium sends Origin: null with the page's own forms, and the Origin check refuses them.
      assert.equal(res.headers.get('referrer-policy'), 'same-origin');
    }
  });
});

describe('approval device: what it tells the browser', () => {
  it('sets the session cookie httpOnly and SameSite=Lax', async () => {
    const d = device();
    const b = d.browser();
    const first = await b.get('/users/alice');
    const login = await b.get(first.headers.get('location') ?? '');
    const state = new URL(login.headers.get('location') ?? '').searchParams.get('state');
    const done = await b.get(`/callback?code=alice&state=${state}`);
    const cookie = done.headers.getSetCookie().find((line) => line.startsWith('device_session='));
    assert.match(cookie ?? '', /HttpOnly/);
    assert.match(cookie ?? '', /SameSite=Lax/);
    assert.match(cookie ?? '', /Path=\//);
  });
});
