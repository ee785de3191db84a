import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError } from '../errors.ts';
import { createSigner, ISSUER, RESOURCE, userClaims } from '../testing.ts';
import { createTokenVerifier } from './verify-cache.ts';

describe('createTokenVerifier', () => {
  it('verifies a token once and serves repeats from memory', async () => {
    const signer = await createSigner();
    let calls = 0;
    const keys: typeof signer.keys = async (...args) => {
      calls += 1;
      return signer.keys(...args);
    };
    const verify = createTokenVerifier({ keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 });
    const token = await signer.sign(userClaims());
    const first = await verify(token);
    const second = await verify(token);
    assert.equal(first, second);
    assert.equal(calls, 1);
  });

  it('rejects a cached token once it has expired', async () => {
    const signer = await createSigner();
    const exp = Math.floor(Date.now() / 1000) + 30;
    let now = Date.now();
    const verify = createTokenVerifier(
      { keys: signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 },
      { now: () => now },
    );
    const token = await signer.sign(userClaims({ exp }));
    await verify(token);
    now = exp * 1000 + 10_000;
    await assert.rejects(
      verify(token),
      (error: unknown) => error instanceof AuthError && error.code === 'invalid_token',
    );
  });

  it('never caches a failure', async () => {
    const signer = await createSigner();
    const other = await createSigner('other-kid');
    const verify = createTokenVerifier({ keys: signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 });
    const forged = await other.sign(userClaims());
    await assert.rejects(verify(forged));
    await assert.rejects(verify(forged));
    assert.equal(verify.size, 0);
  });
});
