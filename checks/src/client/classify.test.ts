import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from './classify.ts';
import { parseChallenge, redactBody, summarizeBearer, type Exchange, type Observations } from './observations.ts';
import { parseCheckClientArgs } from './options.ts';

const MCP = 'http://localhost:3000/mcp';
const ISSUER = 'http://localhost:8080/realms/sandbox';
const READ = 'mcp:tools portfolio:read trade:read';
const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const bearer = (scope: string) => summarizeBearer(jwt({ aud: MCP, scope }));
const challenge = (error: string | undefined, scope: string) =>
  `Bearer ${error ? `error="${error}", ` : ''}scope="${scope}", resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp"`;
const authParams = (scope: string, extra: Record<string, string> = {}) => ({
  client_id: 'b1c2',
  redirect_uri: 'http://127.0.0.1:5000/callback',
  scope,
  code_challenge: 'x'.repeat(43),
  code_challenge_method: 'S256',
  resource: MCP,
  ...extra,
});

/** A client that does everything right, step-up included, as seen through the proxy and the browser. */
function goodRun(): Observations {
  const exchanges: Exchange[] = [
    { at: 10, method: 'POST', url: MCP, status: 401, challenge: challenge(undefined, READ) },
    { at: 20, method: 'GET', url: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp', status: 200 },
    {
      at: 30,
      method: 'GET',
      url: `http://localhost:8080/.well-known/oauth-authorization-server/realms/sandbox`,
      status: 200,
    },
    {
      at: 40,
      method: 'POST',
      url: `${ISSUER}/clients-registrations/openid-connect`,
      status: 201,
      body: { application_type: 'native', redirect_uris: ['http://127.0.0.1:5000/callback'] },
    },
    {
      at: 200,
      method: 'POST',
      url: `${ISSUER}/protocol/openid-connect/token`,
      status: 200,
      body: { grant_type: 'authorization_code', code: '<present>', code_verifier: '<present>', resource: MCP },
    },
    { at: 210, method: 'POST', url: MCP, status: 200, bearer: bearer(READ) },
    {
      at: 220,
      method: 'POST',
      url: MCP,
      status: 403,
      bearer: bearer(READ),
      challenge: challenge('insufficient_scope', `${READ} trade:write`),
    },
    { at: 400, method: 'POST', url: MCP, status: 200, bearer: bearer(`${READ} trade:write`) },
  ];
  return {
    mcpUrl: MCP,
    issuer: ISSUER,
    challengeScope: READ.split(' '),
    exchanges,
    authorizations: [
      { at: 50, params: authParams(READ), outcome: 'redirected' },
      { at: 300, params: authParams(`${READ} trade:write`), outcome: 'redirected' },
    ],
    mode: 'self',
    exit: 'exit 0',
  };
}

const verdicts = (o: Observations) => Object.fromEntries(classify(o).map((r) => [r.id, r.status]));

describe('classify', () => {
  it('passes every step of a complete run and skips refresh, which it did not see', () => {
    assert.deepEqual(verdicts(goodRun()), {
      'client.prm-discovery': 'pass',
      'client.as-metadata': 'pass',
      'client.registration': 'pass',
      'client.authorization': 'pass',
      'client.pkce-s256': 'pass',
      'client.resource-authorization': 'pass',
      'client.resource-token': 'pass',
      'client.scope-from-challenge': 'pass',
      'client.authorized-call': 'pass',
      'client.step-up': 'pass',
      'client.token-refresh': 'skip',
    });
  });

  it('fails PKCE when the authorization request has no S256 challenge', () => {
    const run = goodRun();
    run.authorizations[0] = {
      at: 50,
      params: authParams(READ, { code_challenge_method: 'plain' }),
      outcome: 'redirected',
    };
    const result = classify(run).find((r) => r.id === 'client.pkce-s256');
    assert.equal(result?.status, 'fail');
    assert.match(result?.observed ?? '', /code_challenge_method=plain/);
  });

  it('fails resource and scope when the client ignores both', () => {
    const run = goodRun();
    const { resource: _omitted, ...withoutResource } = authParams('mcp:tools');
    run.authorizations = [{ at: 50, params: withoutResource, outcome: 'redirected' }];
    const v = verdicts(run);
    assert.equal(v['client.resource-authorization'], 'fail');
    assert.equal(v['client.scope-from-challenge'], 'fail');
    assert.match(
      classify(run).find((r) => r.id === 'client.scope-from-challenge')?.observed ?? '',
      /missing portfolio:read, trade:read/,
    );
  });

  it('fails a DCR request without application_type, and passes a CIMD client_id with no registration', () => {
    const run = goodRun();
    (run.exchanges[3] as Exchange).body = { redirect_uris: ['http://127.0.0.1:5000/callback'] };
    assert.equal(verdicts(run)['client.registration'], 'fail');
    run.exchanges.splice(3, 1);
    run.authorizations = run.authorizations.map((a) => ({
      ...a,
      params: { ...a.params, client_id: 'https://client-docs.localhost:8443/clients/x.json' },
    }));
    assert.equal(verdicts(run)['client.registration'], 'pass');
  });

  it('fails step-up when the client never re-authorizes after 403 insufficient_scope', () => {
    const run = goodRun();
    run.authorizations.pop();
    run.exchanges.pop();
    const result = classify(run).find((r) => r.id === 'client.step-up');
    assert.equal(result?.status, 'fail');
    assert.match(result?.observed ?? '', /trade:write/);
  });

  it('skips step-up when no request was refused for scope, and judges refresh only when one was made', () => {
    const run = goodRun();
    run.exchanges = run.exchanges.filter((e) => e.status !== 403);
    assert.equal(verdicts(run)['client.step-up'], 'skip');
    run.exchanges.push({
      at: 500,
      method: 'POST',
      url: `${ISSUER}/protocol/openid-connect/token`,
      status: 200,
      body: { grant_type: 'refresh_token' },
    });
    assert.equal(verdicts(run)['client.token-refresh'], 'fail');
  });

  it('skips what only the proxy can see when the client ignored HTTP_PROXY, saying what was inferred', () => {
    const run = { ...goodRun(), exchanges: [] };
    const results = classify(run);
    const v = verdicts(run);
    for (const id of [
      'client.prm-discovery',
      'client.as-metadata',
      'client.resource-token',
      'client.step-up',
      'client.token-refresh',
    ])
      assert.equal(v[id], 'skip', id);
    assert.match(results.find((r) => r.id === 'client.as-metadata')?.observed ?? '', /^inferred only/);
    assert.equal(v['client.pkce-s256'], 'pass'); // the browser still saw the authorization request
  });

  it('fails every login step when the user was never sent to the authorization endpoint', () => {
    const run = { ...goodRun(), authorizations: [] };
    const v = verdicts(run);
    for (const id of [
      'client.authorization',
      'client.pkce-s256',
      'client.resource-authorization',
      'client.scope-from-challenge',
    ])
      assert.equal(v[id], 'fail', id);
  });
});

describe('observations', () => {
  it('never keeps a secret parameter or a token, only its presence, hash and claims', () => {
    const body = redactBody(
      'application/x-www-form-urlencoded',
      'grant_type=authorization_code&code=abc&code_verifier=v&resource=r',
    );
    assert.deepEqual(body, {
      grant_type: 'authorization_code',
      code: '<present>',
      code_verifier: '<present>',
      resource: 'r',
    });
    const token = jwt({ aud: MCP, scope: 'a b', azp: 'c' });
    const summary = summarizeBearer(token);
    assert.deepEqual({ ...summary, hash: summary.hash.length }, { hash: 12, aud: [MCP], scope: 'a b', azp: 'c' });
    assert.doesNotMatch(JSON.stringify(summary), new RegExp(token.split('.')[1] as string));
  });

  it('reads error, scope and resource_metadata from a challenge', () => {
    assert.deepEqual(parseChallenge(challenge('insufficient_scope', 'a b')), {
      error: 'insufficient_scope',
      scope: ['a', 'b'],
      resourceMetadata: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
    });
  });
});

describe('parseCheckClientArgs', () => {
  it('substitutes {url} in the client command and reads repeated --env', () => {
    const options = parseCheckClientArgs(
      ['--mcp-url', 'http://localhost:13000/mcp', '--env', 'A=1', '--env', 'B=x=y', '--', 'npx', 'mcp-remote', '{url}'],
      { PATH: '/bin' },
    );
    assert.deepEqual(options.command, ['npx', 'mcp-remote', 'http://localhost:13000/mcp']);
    assert.deepEqual(options.env, { A: '1', B: 'x=y' });
    assert.equal(options.password, 'alice-sandbox');
    assert.deepEqual(options.baseEnv, { PATH: '/bin' });
  });

  it('refuses a missing command, a bad URL and an unknown user with a usage message', () => {
    assert.throws(() => parseCheckClientArgs([]), /no client command after "--"/);
    assert.throws(
      () => parseCheckClientArgs(['--mcp-url', 'ftp://x', '--', 'c']),
      /--mcp-url must be an http\(s\) URL/,
    );
    assert.throws(() => parseCheckClientArgs(['--user', 'carol', '--', 'c']), /not a sandbox user/);
  });
});
