import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, DownstreamError, ExchangeError } from './errors.ts';

describe('AuthError', () => {
  it('maps each code to its HTTP status', () => {
    assert.equal(new AuthError('invalid_request', 'x').status, 400);
    assert.equal(new AuthError('invalid_token', 'x').status, 401);
    assert.equal(new AuthError('insufficient_scope', 'x').status, 403);
    assert.equal(new AuthError('temporarily_unavailable', 'x').status, 503);
  });

  it('shows the client the code and message, and keeps the detail for the log', () => {
    const cause = new TypeError('boom');
    const error = new AuthError('invalid_token', 'The access token has expired.', {
      logDetail: 'exp 123 < now 456',
      cause,
    });
    assert.equal(error.name, 'AuthError');
    assert.deepEqual(error.toClientObject(), {
      error: 'invalid_token',
      error_description: 'The access token has expired.',
    });
    assert.deepEqual(error.toLogObject(), {
      error: 'invalid_token',
      description: 'The access token has expired.',
      detail: 'exp 123 < now 456',
      cause: 'TypeError',
    });
    assert.ok(!JSON.stringify(error.toClientObject()).includes('exp 123'));
  });
});

describe('ExchangeError', () => {
  it('carries the code, the fix and the Keycloak error for the log', () => {
    const error = new ExchangeError('scope_refused', 'refused', 'ask for the trader role', {
      keycloakError: '400 invalid_scope: x',
    });
    assert.equal(error.name, 'ExchangeError');
    assert.equal(error.fix, 'ask for the trader role');
    assert.deepEqual(error.toLogObject(), {
      error: 'scope_refused',
      description: 'refused',
      keycloak: '400 invalid_scope: x',
    });
  });
});

describe('DownstreamError', () => {
  it('carries the code and the HTTP status', () => {
    const error = new DownstreamError('stock_api_rejected', 'no', { status: 403 });
    assert.equal(error.name, 'DownstreamError');
    assert.equal(error.code, 'stock_api_rejected');
    assert.equal(error.status, 403);
  });
});
