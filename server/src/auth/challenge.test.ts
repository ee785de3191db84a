import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from '../errors.ts';
import { parseChallenge } from '../testing.ts';
import { authErrorResponse, challengeHeader, quote, type ChallengeOptions } from './challenge.ts';
import { DEFAULT_CHALLENGE_SCOPES } from './scopes.ts';

const OPTIONS: ChallengeOptions = {
  resourceMetadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
  defaultScopes: DEFAULT_CHALLENGE_SCOPES,
};

describe('quote', () => {
  it('wraps a plain value in double quotes', () => {
    assert.equal(quote('mcp:tools trade:read'), '"mcp:tools trade:read"');
  });

  it('keeps only the characters RFC 6750 allows in a value: no quote or backslash, even escaped', () => {
    assert.equal(quote('say "hi" \\ bye'), `"say 'hi' / bye"`);
  });

  it('turns control characters into spaces so a value cannot split the header', () => {
    assert.equal(quote('a\r\nb\x00c\x7f'), '"a  b c "');
  });

  it('turns non-ASCII text (a claim like a user name) into spaces, so Headers accepts it (regression: a 500)', () => {
    const value = quote('Zoë’s token für 東京');
    assert.match(value, /^"[\x20-\x21\x23-\x5b\x5d-\x7e]*"$/);
    assert.doesNotThrow(() => new Headers({ 'www-authenticate': `Bearer error_description=${value}` }));
  });

  it('follows the same rule as the mock stock API, character for character', async () => {
    const { quoteHeaderValue } = await import('../../../mock-stock-api/src/errors.ts');
    const samples = [
      'plain',
      'say "hi" \\ bye',
      'a\r\nb\x00c\x7f',
      'Zoë’s 東京',
      Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(''),
    ];
    for (const sample of samples) assert.equal(quote(sample), quoteHeaderValue(sample), JSON.stringify(sample));
  });
});

describe('challengeHeader', () => {
  it('omits error for a missing token but carries resource_metadata and the default scopes', () => {
    const header = challengeHeader(undefined, OPTIONS);
    assert.ok(header.startsWith('Bearer '));
    const params = parseChallenge(header);
    assert.equal(params.error, undefined);
    assert.equal(params.error_description, undefined);
    assert.equal(params.resource_metadata, OPTIONS.resourceMetadataUrl);
    assert.equal(params.scope, DEFAULT_CHALLENGE_SCOPES.join(' '));
  });

  it('carries error and error_description for invalid_token', () => {
    const params = parseChallenge(
      challengeHeader(new AuthError('invalid_token', 'The access token has expired.'), OPTIONS),
    );
    assert.equal(params.error, 'invalid_token');
    assert.equal(params.error_description, 'The access token has expired.');
    assert.equal(params.resource_metadata, OPTIONS.resourceMetadataUrl);
  });

  it('lists the required scopes for insufficient_scope', () => {
    const error = new AuthError('insufficient_scope', 'Tool place_order needs scope trade:write.', {
      requiredScopes: ['mcp:tools', 'trade:write'],
    });
    const params = parseChallenge(challengeHeader(error, OPTIONS));
    assert.equal(params.error, 'insufficient_scope');
    assert.equal(params.scope, 'mcp:tools trade:write');
  });

  it('keeps a description with quotes and backslashes inside its quoted value', () => {
    const header = challengeHeader(new AuthError('invalid_token', 'bad "typ" \\ here'), OPTIONS);
    assert.match(header, /error_description="bad 'typ' \/ here"/);
    assert.equal(parseChallenge(header).error_description, "bad 'typ' / here");
  });

  it('leaves out the error code for temporarily_unavailable', () => {
    const params = parseChallenge(challengeHeader(new AuthError('temporarily_unavailable', 'retry'), OPTIONS));
    assert.equal(params.error, undefined);
  });
});

describe('authErrorResponse', () => {
  it('answers a missing token with a bare 401 challenge', async () => {
    const response = authErrorResponse(undefined, OPTIONS);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, undefined);
    assert.equal(params.resource_metadata, OPTIONS.resourceMetadataUrl);
    assert.equal(params.scope, DEFAULT_CHALLENGE_SCOPES.join(' '));
    const body = (await response.json()) as { error: string };
    assert.equal(body.error, 'unauthorized');
  });

  it('answers invalid_token with 401, the error in the challenge and in the body', async () => {
    const response = authErrorResponse(
      new AuthError('invalid_token', 'The access token signature is invalid.'),
      OPTIONS,
    );
    assert.equal(response.status, 401);
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, 'invalid_token');
    assert.equal(params.error_description, 'The access token signature is invalid.');
    assert.deepEqual(await response.json(), {
      error: 'invalid_token',
      error_description: 'The access token signature is invalid.',
    });
  });

  it('answers insufficient_scope with 403 listing the scopes', () => {
    const response = authErrorResponse(
      new AuthError('insufficient_scope', 'needs trade:write', {
        requiredScopes: ['mcp:tools', 'trade:read', 'trade:write'],
      }),
      OPTIONS,
    );
    assert.equal(response.status, 403);
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, 'insufficient_scope');
    assert.equal(params.scope, 'mcp:tools trade:read trade:write');
    assert.equal(params.resource_metadata, OPTIONS.resourceMetadataUrl);
  });

  it('answers invalid_request with 400 and an RFC 6750 challenge carrying error="invalid_request"', async () => {
    const response = authErrorResponse(
      new AuthError('invalid_request', 'Send exactly one Authorization header.'),
      OPTIONS,
    );
    assert.equal(response.status, 400);
    assert.match(
      response.headers.get('www-authenticate') ?? '',
      /^Bearer resource_metadata="[^"]+", scope="[^"]+", error="invalid_request"/,
    );
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  });

  it('answers temporarily_unavailable with 503 and Retry-After', () => {
    const response = authErrorResponse(new AuthError('temporarily_unavailable', 'retry'), OPTIONS);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
  });
});
