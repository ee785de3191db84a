import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { extractBearerToken, verifyExchangedToken } from './auth.ts';
import type { VerifyExchangedTokenOptions } from './auth.ts';
import { ApiError } from './errors.ts';
import type { ApiErrorCode } from './errors.ts';
import {
  ALICE,
  createSigner,
  exchangedClaims,
  ISSUER,
  mcpClientClaims,
  NOW,
  NOW_SECONDS,
  unsignedToken,
} from './testing.ts';
import type { Signer } from './testing.ts';

const rejectsWith = async (promise: Promise<unknown>, code: ApiErrorCode, message?: RegExp) =>
  assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });

describe('extractBearerToken', () => {
  const request = (headers: HeadersInit = {}, query = '') =>
    new Request(`http://api.test/portfolio${query}`, { headers });
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof ApiError ? err.code : 'not-an-ApiError';
    }
    return 'no-error';
  };

  it('returns the token of a Bearer header, scheme case-insensitive', () => {
    assert.equal(extractBearerToken(request({ authorization: 'Bearer a.b.c' })), 'a.b.c');
    assert.equal(extractBearerToken(request({ authorization: 'bearer a.b.c' })), 'a.b.c');
    assert.equal(extractBearerToken(request({ authorization: 'BEARER   a.b.c' })), 'a.b.c');
  });

  it('rejects a request without an Authorization header', () => {
    assert.equal(
      code(() => extractBearerToken(request())),
      'missing_token',
    );
  });

  it('rejects a non-Bearer scheme', () => {
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Basic dXNlcjpwYXNz' }))),
      'missing_token',
    );
  });

  it('rejects a token passed in the query string', () => {
    assert.equal(
      code(() => extractBearerToken(request({}, '?access_token=a.b.c'))),
      'missing_token',
    );
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Bearer a.b.c' }, '?access_token=a.b.c'))),
      'malformed_authorization',
    );
  });

  it('rejects comma-joined and repeated Authorization values', () => {
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Bearer a.b.c, Bearer d.e.f' }))),
      'malformed_authorization',
    );
    const headers = new Headers();
    headers.append('authorization', 'Bearer a.b.c');
    headers.append('authorization', 'Bearer d.e.f');
    assert.equal(
      code(() => extractBearerToken(request(headers))),
      'malformed_authorization',
    );
  });

  it('rejects an empty or malformed bearer value', () => {
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Bearer' }))),
      'invalid_token',
    );
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Bearer a b' }))),
      'invalid_token',
    );
    assert.equal(
      code(() => extractBearerToken(request({ authorization: 'Bearer a"b' }))),
      'invalid_token',
    );
  });
});

describe('verifyExchangedToken', () => {
  let signer: Signer;
  let options: VerifyExchangedTokenOptions;
  before(async () => {
    signer = await createSigner();
    options = {
      keys: signer.keys,
      issuer: ISSUER,
      audience: 'stock-api',
      exchangeClientId: 'http://localhost:3000/mcp',
      currentDate: NOW,
    };
  });

  it('returns the claims of an exchanged token', async () => {
    const claims = await verifyExchangedToken(await signer.sign(), options);
    assert.equal(claims.sub, ALICE);
    assert.equal(claims.azp, 'http://localhost:3000/mcp');
    assert.deepEqual(claims.aud, ['stock-api']);
    assert.deepEqual(claims.scopes, ['profile', 'portfolio:read', 'trade:read', 'trade:write']);
    assert.equal(claims.username, 'alice');
    assert.equal(claims.jti, 'jti-0001');
  });

  it('accepts aud as a one-element array, and refuses a token for several audiences as not exchanged', async () => {
    const claims = await verifyExchangedToken(await signer.sign(exchangedClaims({ aud: ['stock-api'] })), options);
    assert.deepEqual(claims.aud, ['stock-api']);
    // The shape of the MCP server's own CIBA token: azp right, but aud = [MCP resource, stock-api].
    await assert.rejects(
      verifyExchangedToken(
        await signer.sign(exchangedClaims({ aud: ['http://localhost:3000/mcp', 'stock-api'] })),
        options,
      ),
      (err: unknown) =>
        err instanceof ApiError && err.code === 'not_exchanged' && /several audiences/.test(err.message),
    );
  });

  it('tolerates 5 seconds of clock skew', async () => {
    await verifyExchangedToken(await signer.sign(exchangedClaims({ exp: NOW_SECONDS - 4 })), options);
  });

  it('rejects a malformed token', async () => {
    await rejectsWith(verifyExchangedToken('not-a-jwt', options), 'invalid_token', /malformed/);
    await rejectsWith(verifyExchangedToken('a.b.c', options), 'invalid_token', /malformed/);
  });

  it('rejects a token signed by an unknown key', async () => {
    const stranger = await createSigner('stranger');
    await rejectsWith(
      verifyExchangedToken(await stranger.sign(), options),
      'invalid_token',
      /not signed by a key of the trusted issuer/,
    );
    const impostor = await createSigner(); // same kid, different key
    await rejectsWith(verifyExchangedToken(await impostor.sign(), options), 'invalid_token', /signature is invalid/);
  });

  it('rejects an alg none token', async () => {
    await rejectsWith(verifyExchangedToken(unsignedToken(), options), 'invalid_token', /algorithm is not allowed/);
  });

  it('rejects an expired token', async () => {
    await rejectsWith(
      verifyExchangedToken(await signer.sign(exchangedClaims({ exp: NOW_SECONDS - 60 })), options),
      'invalid_token',
      /expired/,
    );
  });

  it('rejects a token without exp', async () => {
    await rejectsWith(
      verifyExchangedToken(await signer.sign(exchangedClaims({ exp: undefined })), options),
      'invalid_token',
      /"exp"/,
    );
  });

  it('rejects a token from another issuer', async () => {
    const token = await signer.sign(exchangedClaims({ iss: 'http://localhost:8080/realms/other' }));
    await rejectsWith(
      verifyExchangedToken(token, options),
      'invalid_token',
      /"iss" must be "http:\/\/localhost:8080\/realms\/sandbox"/,
    );
  });

  it("rejects the user's MCP token as the wrong audience, explaining token exchange", async () => {
    const token = await signer.sign(mcpClientClaims());
    await rejectsWith(
      verifyExchangedToken(token, options),
      'wrong_audience',
      /this is the MCP server's token .*only accepts tokens that the MCP server \("http:\/\/localhost:3000\/mcp"\) obtained by token exchange \(RFC 8693\) for audience "stock-api"\. Never pass the client's token downstream\./,
    );
  });

  it('rejects a token for stock-api that mcp-server did not obtain as not_exchanged', async () => {
    const token = await signer.sign(exchangedClaims({ azp: 'mcp-cli' }));
    await rejectsWith(
      verifyExchangedToken(token, options),
      'not_exchanged',
      /azp is "mcp-cli", must be "http:\/\/localhost:3000\/mcp"/,
    );
    await rejectsWith(
      verifyExchangedToken(await signer.sign(exchangedClaims({ azp: undefined })), options),
      'not_exchanged',
    );
  });

  it('rejects ID and refresh tokens by typ', async () => {
    for (const typ of ['ID', 'Refresh', undefined]) {
      await rejectsWith(
        verifyExchangedToken(await signer.sign(exchangedClaims({ typ })), options),
        'wrong_token_type',
        /"typ" must be "Bearer"/,
      );
    }
  });

  it('rejects a token without sub', async () => {
    await rejectsWith(
      verifyExchangedToken(await signer.sign(exchangedClaims({ sub: undefined })), options),
      'invalid_token',
      /"sub"/,
    );
  });

  it('reports key-set failures as keys_unavailable, not as a bad token', async () => {
    const failing = {
      ...options,
      keys: async () => {
        throw new TypeError('fetch failed');
      },
    };
    await rejectsWith(verifyExchangedToken(await signer.sign(), failing), 'keys_unavailable');
  });
});
