import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';

function device(answer: (body: string) => Response = () => new Response(null, { status: 200 })) {
  const calls: Array<{ url: string; authorization: string | null; body: string }> = [];
  const logged: Array<Record<string, unknown>> = [];
  let clock = Date.parse('2026-11-23T10:00:00Z');
  const app = createApp({
    config: loadConfig({ REQUEST_TTL_S: '60' }),
    log: (entry) => logged.push(entry),
    now: () => clock,
    fetch: async (url, init) => {
      const body = String(init?.body);
      calls.push({ url: String(url), authorization: new Headers(init?.headers).get('authorization'), body });
      return answer(body);
    },
  });
  const channel = (body: unknown, token = 'kc-callback-token-1') =>
    app.request('/ciba/requests', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const decide = (id: string, decision: string) =>
    app.request(`/requests/${id}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision }).toString(),
    });
  return { app, calls, logged, channel, decide, advance: (ms: number) => (clock += ms) };
}

const ORDER = {
  login_hint: 'alice',
  binding_message: 'Buy-40-ACME-at-142.35-USD-total-5694.00',
  scope: 'openid trade:write trade:approved',
  is_consent_required: false,
};

describe('approval device', () => {
  it("accepts Keycloak's channel request and lists it on the user's page with the message in words", async () => {
    const d = device();
    const res = await d.channel(ORDER);
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: string };
    const page = await (await d.app.request('/users/alice')).text();
    assert.match(page, /Buy 40 ACME at 142\.35 USD total 5694\.00/);
    assert.match(page, new RegExp(`data-request-id="${id}"`));
    assert.match(page, /<button type="submit" name="decision" value="approve" aria-label="Approve: Buy 40 ACME/);
    assert.doesNotMatch(page, /kc-callback-token/, 'the callback token must never be rendered');
    assert.doesNotMatch(
      await (await d.app.request('/users/bob')).text(),
      /ACME/,
      "bob's page shows none of alice's requests",
    );
    assert.doesNotMatch(JSON.stringify(d.logged), /kc-callback-token/, 'the callback token must never be logged');
  });

  it('reports Approve as SUCCEED and Deny as UNAUTHORIZED to the callback, with the bearer Keycloak sent', async () => {
    const d = device();
    const first = ((await (await d.channel(ORDER, 'token-a')).json()) as { id: string }).id;
    const second = (
      (await (await d.channel({ ...ORDER, binding_message: 'Sell-5-WAYNE' }, 'token-b')).json()) as { id: string }
    ).id;
    assert.equal((await d.decide(first, 'approve')).status, 303);
    assert.equal((await d.decide(second, 'deny')).status, 303);
    assert.deepEqual(
      d.calls.map((c) => [c.url, c.authorization, c.body]),
      [
        [
          'http://localhost:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback',
          'Bearer token-a',
          '{"status":"SUCCEED"}',
        ],
        [
          'http://localhost:8080/realms/sandbox/protocol/openid-connect/ext/ciba/auth/callback',
          'Bearer token-b',
          '{"status":"UNAUTHORIZED"}',
        ],
      ],
    );
    const list = (await (await d.app.request('/requests?user=alice')).json()) as Array<{ id: string; status: string }>;
    assert.deepEqual(Object.fromEntries(list.map((r) => [r.id, r.status])), {
      [first]: 'approved',
      [second]: 'denied',
    });
    assert.ok(!JSON.stringify(list).includes('token-'), 'the JSON view holds no token');
    assert.equal((await d.decide(first, 'deny')).status, 303);
    assert.equal(d.calls.length, 2, 'a decided request is not decided again');
  });

  it("shows Keycloak's refusal when the request expired there, and says so", async () => {
    const d = device(() => new Response('{"error":"expired_token"}', { status: 400 }));
    const { id } = (await (await d.channel(ORDER)).json()) as { id: string };
    await d.decide(id, 'approve');
    const [request] = (await (await d.app.request('/requests')).json()) as Array<{ status: string; outcome: string }>;
    assert.equal(request?.status, 'expired');
    assert.match(request?.outcome ?? '', /Keycloak refused the decision: 400/);
  });

  it('refuses a channel request without a bearer or with a malformed body, and forgets requests after their TTL', async () => {
    const d = device();
    const noBearer = await d.app.request('/ciba/requests', { method: 'POST', body: JSON.stringify(ORDER) });
    assert.equal(noBearer.status, 401);
    assert.equal((await d.channel({ binding_message: 'x' })).status, 400);
    await d.channel(ORDER);
    d.advance(61_000);
    assert.deepEqual(await (await d.app.request('/requests')).json(), []);
    assert.equal((await d.decide('nope', 'approve')).status, 404);
  });
});
