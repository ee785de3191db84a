import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, challengeFor, errorResponse, quoteHeaderValue } from './errors.ts';

describe('quoteHeaderValue', () => {
  it('keeps only what RFC 6750 allows in a value: a quote becomes an apostrophe, a backslash a slash', () => {
    assert.equal(quoteHeaderValue('say "hi" \\ bye'), `"say 'hi' / bye"`);
  });

  it('replaces control and non-ASCII characters so no header can be injected', () => {
    assert.equal(quoteHeaderValue('a\r\nSet-Cookie: x…'), '"a  Set-Cookie: x "');
  });
});

describe('challengeFor', () => {
  it('omits the error code when no token was sent', () => {
    assert.equal(challengeFor(new ApiError('missing_token', 'Missing.')), 'Bearer realm="stock-api"');
  });

  it('names invalid_token for token failures', () => {
    assert.equal(
      challengeFor(new ApiError('wrong_audience', 'Wrong "aud".')),
      `Bearer realm="stock-api", error="invalid_token", error_description="Wrong 'aud'."`,
    );
  });

  it('names the needed scope for insufficient_scope', () => {
    assert.equal(
      challengeFor(new ApiError('insufficient_scope', 'Need it.', { scope: 'trade:read' })),
      'Bearer realm="stock-api", error="insufficient_scope", scope="trade:read", error_description="Need it."',
    );
  });

  it('returns nothing for non-auth errors', () => {
    assert.equal(challengeFor(new ApiError('not_found', 'Nope.')), undefined);
  });
});

describe('errorResponse', () => {
  it('renders an ApiError as { error: { code, message } } with its status', async () => {
    const res = errorResponse(
      new ApiError('invalid_order', 'Bad.', { fields: { quantity: 'must be positive' }, detail: 'internal' }),
    );
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), {
      error: { code: 'invalid_order', message: 'Bad.', fields: { quantity: 'must be positive' } },
    });
  });

  it('hides unexpected errors behind a bare 500', async () => {
    const res = errorResponse(new Error('secret detail'));
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: { code: 'internal_error', message: 'Internal server error.' } });
  });
});

describe('ApiError', () => {
  it('keeps the cause and detail in the log view only', () => {
    const err = new ApiError('invalid_token', 'Bad token.', { cause: new Error('JWSInvalid'), detail: 'header' });
    assert.deepEqual(err.toClientObject(), { error: { code: 'invalid_token', message: 'Bad token.' } });
    assert.deepEqual(err.toLogObject(), {
      code: 'invalid_token',
      status: 401,
      message: 'Bad token.',
      detail: 'header',
      cause: 'Error: JWSInvalid',
    });
  });
});
