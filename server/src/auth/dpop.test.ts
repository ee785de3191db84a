// DPoP at the resource server: the proof checks one by one, the replay stores, and the middleware's scheme rules.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { Redis } from 'ioredis';
import { captureLogs, createSigner, ISSUER, RESOURCE, userClaims, type Signer } from '../testing.ts';
import { AuthError } from '../errors.ts';
import {
  DpopError,
  dpopNonce,
  memoryReplayStore,
  redisReplayStore,
  verifyDpopProof,
  type DpopOptions,
} from './dpop.ts';
import { bearerAuth, type AuthVariables } from './middleware.ts';

const URL_ = 'https://mcp.example/mcp';
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

interface Holder {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function holder(alg = 'ES256'): Promise<Holder> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

async function proof(
  who: Holder,
  token: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ htm: 'POST', htu: URL_, ath: ath(token), jti: randomUUID(), iat, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: who.jwk, ...header })
    .sign(who.privateKey);
}

describe('verifyDpopProof', () => {
  let alice: Holder;
  let mallory: Holder;
  const options = (): DpopOptions => ({ replay: memoryReplayStore(), maxAgeSeconds: 60 });
  before(async () => {
    alice = await holder();
    mallory = await holder();
  });
  const check = (p: string, opts: DpopOptions, token = 'token-1', jkt = alice.jkt, method = 'POST') =>
    verifyDpopProof({ proof: p, method, url: `${URL_}?x=1`, accessToken: token, jkt }, opts);

  it('accepts a fresh proof by the bound key for this method, URL and token, once', async () => {
    const opts = options();
    const p = await proof(alice, 'token-1');
    await check(p, opts);
    await assert.rejects(
      check(p, opts),
      (e: DpopError) => e.dpopCode === 'invalid_dpop_proof' && /used before/.test(e.message),
    );
  });

  for (const [what, make, pattern] of [
    ['another key (a thief with the token only)', async () => proof(mallory, 'token-1'), /another key/],
    ['another method', async () => proof(alice, 'token-1', { htm: 'GET' }), /htm must be POST/],
    ['another URL', async () => proof(alice, 'token-1', { htu: 'https://mcp.example/other' }), /htu must be/],
    ['another token', async () => proof(alice, 'token-2'), /ath/],
    [
      'an old proof',
      async () => proof(alice, 'token-1', { iat: Math.floor(Date.now() / 1000) - 600 }),
      /iat must be within/,
    ],
    ['no jti', async () => proof(alice, 'token-1', { jti: undefined }), /jti/],
    ['typ JWT', async () => proof(alice, 'token-1', {}, { typ: 'JWT' }), /typ "dpop\+jwt"/],
    ['not a JWS', async () => 'garbage', /not a JWS/],
  ] as const) {
    it(`refuses a proof with ${what}`, async () => {
      await assert.rejects(check(await make(), options()), (e: unknown) => {
        assert.ok(e instanceof DpopError);
        assert.equal(e.dpopCode, 'invalid_dpop_proof');
        assert.match(e.message, pattern);
        return true;
      });
    });
  }

  it('refuses an HMAC "proof" (a symmetric key proves nothing) and one whose signature was altered', async () => {
    const hs = await new SignJWT({ htm: 'POST', htu: URL_, ath: ath('token-1'), jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: alice.jwk })
      .setIssuedAt()
      .sign(new Uint8Array(32));
    await assert.rejects(check(hs, options()), /alg must be one of/);
    const good = await proof(alice, 'token-1');
    const [h, p, s] = good.split('.');
    const other = (await proof(alice, 'token-1')).split('.')[2];
    assert.notEqual(s, other);
    await assert.rejects(check(`${h}.${p}.${other}`, options()), /signature does not verify/);
  });

  it('asks for the server nonce when nonces are on, accepts the current and the previous window, refuses others', async () => {
    const key = Buffer.alloc(32, 7);
    const now = Date.now();
    const opts = { ...options(), nonceKey: key, nonceWindowSeconds: 60, now: () => now };
    await assert.rejects(check(await proof(alice, 'token-1'), opts), (e: DpopError) => e.dpopCode === 'use_dpop_nonce');
    await check(await proof(alice, 'token-1', { nonce: dpopNonce(key, now) }), opts);
    await check(await proof(alice, 'token-1', { nonce: dpopNonce(key, now, 60, 1) }), opts);
    await assert.rejects(
      check(await proof(alice, 'token-1', { nonce: dpopNonce(key, now, 60, 5) }), opts),
      (e: DpopError) => e.dpopCode === 'use_dpop_nonce',
    );
  });

  it('answers 503-class when the replay store cannot answer (never accepts unchecked)', async () => {
    const broken = { replay: { firstUse: async () => Promise.reject(new Error('redis down')) }, maxAgeSeconds: 60 };
    await assert.rejects(check(await proof(alice, 'token-1'), broken), (e: unknown) => {
      assert.ok(e instanceof AuthError && e.code === 'temporarily_unavailable');
      return true;
    });
  });

  it('shares replays through Redis: a proof used on one replica is refused on another', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    try {
      const prefix = `test-${randomUUID()}:`;
      const p = await proof(alice, 'token-1');
      await check(p, { replay: redisReplayStore(redis, prefix), maxAgeSeconds: 60 });
      await assert.rejects(check(p, { replay: redisReplayStore(redis, prefix), maxAgeSeconds: 60 }), /used before/);
    } finally {
      redis.disconnect();
    }
  });
});

describe('bearerAuth with DPoP', () => {
  let signer: Signer;
  let alice: Holder;
  before(async () => {
    signer = await createSigner();
    alice = await holder();
  });
  const app = (required = false) => {
    const hono = new Hono<{ Variables: AuthVariables }>();
    hono.use(
      '*',
      bearerAuth({
        verify: { keys: signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 },
        challenge: { resourceMetadataUrl: `${RESOURCE}/prm`, defaultScopes: [] },
        logger: captureLogs().logger,
        dpop: {
          options: { replay: memoryReplayStore(), maxAgeSeconds: 60 },
          publicOrigin: 'https://mcp.example',
          required,
        },
      }),
    );
    hono.post('/mcp', (c) => c.json({ sub: c.get('principal').sub, jkt: c.get('principal').jkt ?? null }));
    return hono;
  };

  it('serves a bound token with the DPoP scheme and a valid proof, and names the key', async () => {
    const token = await signer.sign(userClaims({ cnf: { jkt: alice.jkt } }));
    const response = await app().request('/mcp', {
      method: 'POST',
      headers: { authorization: `DPoP ${token}`, dpop: await proof(alice, token) },
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(((await response.json()) as { jkt: string }).jkt, alice.jkt);
  });

  it('refuses a stolen bound token: as Bearer, without a proof, or with a proof by another key', async () => {
    const token = await signer.sign(userClaims({ cnf: { jkt: alice.jkt } }));
    const thief = await holder();
    for (const [what, headers] of [
      ['as Bearer', { authorization: `Bearer ${token}` }],
      ['no proof', { authorization: `DPoP ${token}` }],
      ["the thief's own proof", { authorization: `DPoP ${token}`, dpop: await proof(thief, token) }],
    ] as const) {
      const response = await app().request('/mcp', { method: 'POST', headers });
      assert.equal(response.status, 401, what);
      const challenge = response.headers.get('www-authenticate') ?? '';
      assert.match(
        challenge,
        what === 'as Bearer' ? /^Bearer .*DPoP-bound/ : /^DPoP algs=".*", error="invalid_dpop_proof"/,
      );
      assert.ok(!challenge.includes(token), 'the challenge repeats the token');
    }
  });

  it('keeps bearer tokens working unless DPoP is required, and refuses the DPoP scheme for an unbound token', async () => {
    const token = await signer.sign(userClaims());
    assert.equal(
      (await app().request('/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    const required = await app(true).request('/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(required.status, 401);
    assert.match(required.headers.get('www-authenticate') ?? '', /requires DPoP-bound access tokens/);
    const mixed = await app().request('/mcp', {
      method: 'POST',
      headers: { authorization: `DPoP ${token}`, dpop: await proof(alice, token) },
    });
    assert.equal(mixed.status, 401);
    assert.match(mixed.headers.get('www-authenticate') ?? '', /no cnf\.jkt/);
  });
});
