import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { generateSignedCookie } from 'hono/cookie';
import {
  ALICE,
  blockNetwork,
  CLIENT_SECRET,
  createTestApp,
  exchangeAnswer,
  legacyRequest,
  rpc,
  userClaims,
  type TestApp,
  type ToolCallResult,
} from '../testing.ts';
import { claimsTable } from './page.ts';
import { decodeToken } from './calls.ts';

describe('workshop explorer', () => {
  let t: TestApp;
  let token: string;
  const exchanged: string[] = [];

  before(async () => {
    blockNetwork();
    t = await createTestApp();
    token = await t.signer.sign();
  });
  beforeEach(() => {
    t.tokenEndpoint.reply = async (recorded) => {
      const reply = await exchangeAnswer(t.signer, new URLSearchParams(recorded.body));
      exchanged.push((reply.json as { access_token: string }).access_token);
      return reply;
    };
  });
  after(() => t.close());

  const callTool = async (name: string, args: Record<string, unknown>, bearer = token) => {
    const response = await t.app.request(legacyRequest('tools/call', { name, arguments: args }, { token: bearer }));
    return (await rpc<ToolCallResult>(response)).result;
  };
  const page = (path: string, cookie?: string) =>
    t.app.request(
      new Request(`http://localhost:3000${path}`, {
        headers: { host: 'localhost:3000', ...(cookie ? { cookie } : {}) },
      }),
    );

  it("records a call under the user's sub: both tokens decoded, the exchange request redacted, a miss then a hit", async () => {
    await callTool('get_stock_info', { symbol: 'ACME' });
    await callTool('get_stock_info', { symbol: 'ACME' });
    const [second, first] = (await t.calls?.list(ALICE)) ?? [];
    assert.ok(first && second, 'two calls recorded');
    assert.equal(first.tool, 'get_stock_info');
    assert.equal(first.outcome, 'ok');
    const step = first.steps[0];
    assert.ok(step);
    assert.equal(step.cache, 'miss');
    assert.equal(step.decision, 'allowed');
    assert.equal(step.status, 200);
    assert.equal(step.exchangeRequest?.form.grant_type, 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(step.exchangeRequest?.form.audience, 'stock-api');
    assert.equal(step.exchangeRequest?.form.scope, 'trade:read');
    assert.match(step.exchangeRequest?.form.subject_token ?? '', /^<access token, sha256 [0-9a-f]{16}>$/);
    assert.match(step.exchangeRequest?.headers.authorization ?? '', /client secret, sha256 [0-9a-f]{16}/);
    assert.equal(step.exchanged?.claims.aud, 'stock-api');
    assert.notDeepEqual(step.exchanged?.claims.aud, first.userToken.claims.aud);
    assert.equal(second.steps[0]?.cache, 'hit');
    assert.equal(second.steps[0]?.exchangeRequest, undefined, 'a hit sends nothing to Keycloak');
    const everything = JSON.stringify(await t.calls?.list(ALICE));
    for (const secret of [token, CLIENT_SECRET, ...exchanged])
      assert.ok(!everything.includes(secret), 'no token or secret in what the explorer keeps');
  });

  it("records Keycloak's refusal of an exchange, and that the stock API was never reached", async () => {
    const other = await t.signer.sign(userClaims({ sub: 'refused-user', scope: 'mcp:tools trade:read' }));
    t.tokenEndpoint.reply = () => ({ status: 400, json: { error: 'invalid_scope', error_description: 'no' } });
    const result = await callTool('get_stock_info', { symbol: 'ACME' }, other);
    assert.equal(result?.isError, true);
    const [call] = (await t.calls?.list('refused-user')) ?? [];
    assert.equal(call?.outcome, 'error');
    assert.equal(call?.steps[0]?.exchangeError?.code, 'scope_refused');
    assert.match(call?.steps[0]?.decision ?? '', /not reached/);
    assert.ok(call?.steps[0]?.exchangeRequest, 'the refused request is shown too');
  });

  it("keeps the exchange's outcome when the stock API then refuses the call (a hit stays a hit)", async () => {
    const user = await t.signer.sign(userClaims({ sub: 'refused-by-stock-api', scope: 'mcp:tools trade:read' }));
    await callTool('get_stock_info', { symbol: 'ACME' }, user);
    const normal = t.stockApi.reply;
    t.stockApi.reply = () => ({ status: 503, json: { error: { code: 'down', message: 'maintenance' } } });
    try {
      const result = await callTool('get_stock_info', { symbol: 'ACME' }, user);
      assert.equal(result?.isError, true);
    } finally {
      t.stockApi.reply = normal;
    }
    const [refused] = (await t.calls?.list('refused-by-stock-api')) ?? [];
    assert.equal(refused?.steps[0]?.cache, 'hit');
    assert.equal(refused?.steps[0]?.status, 503);
    assert.equal(refused?.steps[0]?.decision, 'stock_api_error');
    assert.equal(refused?.steps[0]?.exchanged?.claims.aud, 'stock-api');
  });

  it('shows a sign-in page without a session, and refuses the calls fragment', async () => {
    const response = await page('/explorer');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /href="\/explorer\/login"/);
    assert.equal((await page('/explorer/calls')).status, 401);
  });

  it("refuses a session cookie it did not sign (no way to read another user's calls by naming their sub)", async () => {
    const forged = `explorer_session=${encodeURIComponent(JSON.stringify({ sub: ALICE, exp: 4e9 }))}`;
    assert.equal((await page('/explorer/calls', forged)).status, 401);
    const signedElsewhere = await generateSignedCookie(
      'explorer_session',
      JSON.stringify({ sub: ALICE, exp: 4e9 }),
      'x',
    );
    assert.equal((await page('/explorer/calls', signedElsewhere.split(';')[0])).status, 401);
  });

  it('is absent with EXPLORER=off, and records nothing', async () => {
    const off = await createTestApp({ env: { EXPLORER: 'off' } });
    try {
      assert.equal(off.calls, undefined);
      const response = await off.app.request(
        new Request('http://localhost:3000/explorer', { headers: { host: 'localhost:3000' } }),
      );
      assert.equal(response.status, 404);
    } finally {
      await off.close();
    }
  });
});

describe('explorer page', () => {
  it('marks the claims that differ, in words as well as colour, and escapes claim values', async () => {
    const user = {
      hash: 'a',
      header: {},
      claims: {
        aud: 'http://localhost:3000/mcp',
        azp: 'c',
        scope: 'trade:read',
        exp: 1,
        preferred_username: '<script>x</script>',
      },
    };
    const exchanged = { hash: 'b', header: {}, claims: { aud: 'stock-api', azp: 'c', scope: 'trade:read', exp: 2 } };
    const text = String(await claimsTable(user, exchanged, 'caption'));
    const row = (claim: string) => new RegExp(`<tr[^>]*><th scope="row">${claim}[^]*?</tr>`).exec(text)?.[0] ?? '';
    assert.match(row('aud'), /class="differs"[^]*differs<\/span>/);
    assert.match(row('exp'), /differs<\/span>/);
    assert.doesNotMatch(row('azp'), /differs/);
    assert.ok(!text.includes('<script>x'), 'claim values are escaped');
    assert.ok(text.includes('&lt;script&gt;x'));
  });

  it('decodes a token without keeping it', () => {
    const decoded = decodeToken('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
    assert.equal(decoded.claims.sub, 'x');
    assert.match(decoded.hash, /^[0-9a-f]{16}$/);
  });
});
