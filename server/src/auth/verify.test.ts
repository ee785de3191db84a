import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { exportSPKI, SignJWT, type JWTPayload } from 'jose';
import { AuthError } from '../errors.ts';
import { tokenHash } from '../log.ts';
import {
  ALICE,
  createSigner,
  ISSUER,
  issuedTokens,
  nowSeconds,
  RESOURCE,
  userClaims,
  USER_SCOPE,
  withoutClaim,
  type Signer,
} from '../testing.ts';
import { verifyAccessToken, type VerifyOptions } from './verify.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verifyAccessToken', () => {
  let signer: Signer;
  let other: Signer;
  let options: VerifyOptions;

  before(async () => {
    signer = await createSigner();
    other = await createSigner('other-kid');
    options = { keys: signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 };
  });

  /** Asserts that verification fails with invalid_token, a message matching `pattern`, and no token text. */
  async function rejects(token: string, pattern: RegExp, verifyOptions: VerifyOptions = options): Promise<AuthError> {
    let caught: unknown;
    try {
      await verifyAccessToken(token, verifyOptions);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof AuthError, `expected an AuthError, got ${String(caught)}`);
    assert.equal(caught.code, 'invalid_token');
    assert.equal(caught.status, 401);
    assert.match(caught.message, pattern);
    const [header, payload, signature] = token.split('.');
    for (const part of [token, payload, signature, header].filter((p) => p && p.length > 8)) {
      assert.ok(!caught.message.includes(part as string), 'the message contains the token');
      assert.ok(!JSON.stringify(caught.toLogObject()).includes(part as string), 'the log object contains the token');
    }
    return caught;
  }

  it('accepts a Keycloak access token for this resource and returns the principal', async () => {
    const token = await signer.sign(userClaims({ jti: 'jti-1' }));
    const principal = await verifyAccessToken(token, options);
    assert.equal(principal.sub, ALICE);
    assert.equal(principal.username, 'alice');
    assert.equal(principal.clientId, 'mcp-cli');
    assert.deepEqual(principal.scopes, USER_SCOPE.split(' '));
    assert.equal(principal.jti, 'jti-1');
    assert.equal(principal.tokenHash, tokenHash(token));
    assert.equal(typeof principal.exp, 'number');
  });

  it('accepts a token whose only audience is this resource', async () => {
    const principal = await verifyAccessToken(await signer.sign(userClaims({ aud: RESOURCE })), options);
    assert.equal(principal.sub, ALICE);
  });

  it('returns no scopes when the scope claim is absent', async () => {
    const principal = await verifyAccessToken(await signer.sign(withoutClaim('scope')), options);
    assert.deepEqual(principal.scopes, []);
  });

  it('rejects an expired token', async () => {
    await rejects(await signer.sign(userClaims({ iat: nowSeconds() - 600, exp: nowSeconds() - 60 })), /has expired/);
  });

  it('rejects a token whose nbf is in the future', async () => {
    await rejects(await signer.sign(userClaims({ nbf: nowSeconds() + 120 })), /not valid yet \(nbf/);
  });

  for (const [label, iss] of [
    ['another realm', 'http://localhost:8080/realms/other'],
    ['a trailing slash', `${ISSUER}/`],
    ['https instead of http', 'https://localhost:8080/realms/sandbox'],
  ] as const) {
    it(`rejects a token from ${label}`, async () => {
      await rejects(
        await signer.sign(userClaims({ iss })),
        /issued by another issuer; this server accepts only http:\/\/localhost:8080\/realms\/sandbox/,
      );
    });
  }

  it('rejects a token without an audience', async () => {
    await rejects(
      await signer.sign(withoutClaim('aud')),
      /not for this resource: its audience must include http:\/\/localhost:3000\/mcp/,
    );
  });

  it('rejects a token whose audience is the stock API', async () => {
    await rejects(await signer.sign(userClaims({ aud: 'stock-api', azp: 'mcp-server' })), /not for this resource/);
  });

  it('rejects a token whose audience is another resource', async () => {
    await rejects(
      await signer.sign(userClaims({ aud: ['http://localhost:3001/mcp', 'mcp-server'] })),
      /not for this resource/,
    );
  });

  it('rejects an unsigned alg none token', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(userClaims())}.`;
    issuedTokens.add(token);
    await rejects(token, /not allowed/);
  });

  it('rejects an HS256 token signed with the public key bytes', async () => {
    const secret = new TextEncoder().encode(await exportSPKI(signer.publicKey));
    const token = await new SignJWT(userClaims())
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: signer.kid })
      .sign(secret);
    issuedTokens.add(token);
    await rejects(token, /signing algorithm is not allowed/);
  });

  it('rejects a token with no user session (no sid claim), as a client_credentials token has', async () => {
    const error = await rejects(
      await signer.sign(withoutClaim('sid', { preferred_username: 'service-account-robot' })),
      /stands for no user session .*is not a machine client of this server/,
    );
    assert.equal(error.code, 'invalid_token');
  });

  it('accepts a DPoP access token (typ DPoP) with its key thumbprint, and refuses one that names no key', async () => {
    const bound = await verifyAccessToken(
      await signer.sign(userClaims({ typ: 'DPoP', cnf: { jkt: 'thumb' } })),
      options,
    );
    assert.equal(bound.jkt, 'thumb');
    assert.equal((await verifyAccessToken(await signer.sign(userClaims()), options)).jkt, undefined);
    await rejects(await signer.sign(userClaims({ typ: 'DPoP' })), /DPoP access token names no key/);
  });

  it("accepts a machine client's own service-account token as a machine principal, and no other user-less token", async () => {
    const machineOptions = { ...options, machineClients: ['sandbox-bot'] };
    const bot = { azp: 'sandbox-bot', preferred_username: 'service-account-sandbox-bot' };
    const principal = await verifyAccessToken(await signer.sign(withoutClaim('sid', bot)), machineOptions);
    assert.equal(principal.machine, true);
    assert.equal(principal.sessionId, undefined);
    assert.equal(principal.clientId, 'sandbox-bot');
    // A user's token from that client is still a user's (sid present).
    assert.equal((await verifyAccessToken(await signer.sign(userClaims(bot)), machineOptions)).machine, false);
    // Not listed, or a service account that is not the client's own: refused.
    await rejects(await signer.sign(withoutClaim('sid', bot)), /is not a machine client/);
    await rejects(
      await signer.sign(withoutClaim('sid', { azp: 'sandbox-bot', preferred_username: 'service-account-other' })),
      /is not a machine client/,
      machineOptions,
    );
    await rejects(
      await signer.sign(
        withoutClaim('sid', { azp: 'registered-1', preferred_username: 'service-account-registered-1' }),
      ),
      /"registered-1" is not a machine client/,
      machineOptions,
    );
  });

  it('reads the realm roles when the token lists them, and leaves them undefined when it does not', async () => {
    const listed = await verifyAccessToken(
      await signer.sign(userClaims({ realm_access: { roles: ['viewer', 7] } })),
      options,
    );
    assert.deepEqual(listed.roles, ['viewer']);
    const absent = await verifyAccessToken(await signer.sign(withoutClaim('realm_access')), options);
    assert.equal(absent.roles, undefined);
    assert.equal(typeof absent.sessionId, 'string');
  });

  it('rejects a token whose kid the realm does not publish', async () => {
    await rejects(await other.sign(userClaims()), /signed with a key the realm does not publish/);
  });

  it('rejects a token signed by another key under a published kid', async () => {
    await rejects(await other.sign(userClaims(), { kid: signer.kid }), /signature is invalid/);
  });

  it('rejects a tampered payload carrying the original signature', async () => {
    const [header, , signature] = (await signer.sign(userClaims())).split('.');
    const token = `${header}.${b64(userClaims({ scope: `${USER_SCOPE} trade:write` }))}.${signature}`;
    issuedTokens.add(token);
    await rejects(token, /signature is invalid/);
  });

  for (const typ of ['ID', 'Refresh']) {
    it(`rejects a token with typ ${typ}`, async () => {
      await rejects(await signer.sign(userClaims({ typ })), new RegExp(`not an access token \\(typ is "${typ}"\\)`));
    });
  }

  it('rejects a token without typ', async () => {
    await rejects(await signer.sign(withoutClaim('typ')), /not an access token \(typ is null\)/);
  });

  it('rejects a token without sub', async () => {
    await rejects(await signer.sign(withoutClaim('sub')), /"sub" claim is missing or invalid/);
  });

  it('rejects a token with an empty sub', async () => {
    await rejects(await signer.sign(userClaims({ sub: '' })), /no subject|"sub"/);
  });

  it('rejects a token without exp', async () => {
    await rejects(await signer.sign(withoutClaim('exp')), /"exp" claim is missing or invalid/);
  });

  it('rejects an oversize token before parsing it', async () => {
    const padding = 'x'.repeat(9000);
    const token = await signer.sign(userClaims({ padding } as JWTPayload));
    await rejects(token, /larger than 8192 bytes/);
  });

  it('rejects text that is not a JWT', async () => {
    const token = 'definitely-not-a-jwt-token-value';
    issuedTokens.add(token);
    await rejects(token, /not a compact JWS in unpadded base64url/);
  });

  it('rejects a valid token re-spelled with base64 padding or with the unused bits of its signature set', async () => {
    const token = await signer.sign();
    await verifyAccessToken(token, options); // the spelling Keycloak issues verifies
    const [header, payload, signature = ''] = token.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 256-byte RS256 signature is 342 characters: the last one carries 2 bits of data and 4 unused ones.
    const last = alphabet.indexOf(signature.slice(-1));
    const flipped = `${signature.slice(0, -1)}${alphabet[last | 1] === signature.slice(-1) ? alphabet[last & ~1] : alphabet[last | 1]}`;
    assert.deepEqual(Buffer.from(flipped, 'base64url'), Buffer.from(signature, 'base64url'), 'same bytes');
    for (const respelled of [`${header}.${payload}.${signature}==`, `${header}.${payload}.${flipped}`]) {
      issuedTokens.add(respelled);
      await rejects(respelled, /not a compact JWS in unpadded base64url/);
    }
  });

  it('answers temporarily_unavailable when the keys cannot be fetched', async () => {
    const unreachable: VerifyOptions = {
      ...options,
      keys: async () => {
        throw new TypeError('fetch failed');
      },
    };
    await assert.rejects(verifyAccessToken(await signer.sign(), unreachable), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.code, 'temporarily_unavailable');
      assert.equal(error.status, 503);
      return true;
    });
  });
});
