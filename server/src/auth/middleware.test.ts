import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createLogger } from '../log.ts';
import {
  captureLogs,
  ISSUER,
  legacyRequest,
  mcpHeaders,
  parseChallenge,
  RESOURCE,
  rpc,
  startTestApp,
  stopTestApp,
  userClaims,
  type TestApp,
} from '../testing.ts';
import { bearerAuth, type AuthVariables } from './middleware.ts';
import { DEFAULT_CHALLENGE_SCOPES } from './scopes.ts';

const PRM = 'http://localhost:3000/.well-known/oauth-protected-resource/mcp';

describe('bearerAuth', () => {
  let t: TestApp;
  let token: string;

  before(async () => {
    ({ t, token } = await startTestApp());
  });
  after(() => stopTestApp(t));

  const post = (headers: Record<string, string>, url = RESOURCE) =>
    t.app.request(
      new Request(url, {
        method: 'POST',
        headers: { ...mcpHeaders({ headers: { 'mcp-protocol-version': '2025-11-25' } }), ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      }),
    );

  it('throws at construction without an issuer or a resource', () => {
    const logger = createLogger('silent');
    const challenge = { resourceMetadataUrl: PRM, defaultScopes: [] };
    assert.throws(
      () =>
        bearerAuth({
          verify: { keys: t.signer.keys, issuer: '', resource: RESOURCE, maxTokenBytes: 10 },
          challenge,
          logger,
        }),
      /issuer and a resource/,
    );
    assert.throws(
      () =>
        bearerAuth({
          verify: { keys: t.signer.keys, issuer: ISSUER, resource: '', maxTokenBytes: 10 },
          challenge,
          logger,
        }),
      /issuer and a resource/,
    );
  });

  it('answers a request without Authorization with 401 and a bare challenge', async () => {
    const response = await post({});
    assert.equal(response.status, 401);
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, undefined);
    assert.equal(params.resource_metadata, PRM);
    assert.equal(params.scope, DEFAULT_CHALLENGE_SCOPES.join(' '));
  });

  it('treats a Basic Authorization header as no bearer token', async () => {
    const response = await post({ authorization: 'Basic YWxpY2U6cGFzcw==' });
    assert.equal(response.status, 401);
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, undefined);
    assert.equal(params.resource_metadata, PRM);
  });

  it('rejects a token in the access_token query parameter with 400 invalid_request', async () => {
    const response = await post({}, `${RESOURCE}?access_token=${encodeURIComponent(token)}`);
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /only in the Authorization header/);
  });

  it('rejects a URL access_token even with a valid Authorization header', async () => {
    const response = await post({ authorization: `Bearer ${token}` }, `${RESOURCE}?access_token=x`);
    assert.equal(response.status, 400);
  });

  it('rejects two tokens in one Authorization header with 400', async () => {
    const response = await post({ authorization: `Bearer ${token} ${token}` });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description, /"Bearer <token>" with one token/);
  });

  it('rejects a comma-joined pair of bearer headers with 400', async () => {
    const response = await post({ authorization: `Bearer ${token}, Bearer ${token}` });
    assert.equal(response.status, 400);
  });

  it('treats an empty Bearer credential as no token', async () => {
    const response = await post({ authorization: 'Bearer ' });
    assert.equal(response.status, 401);
    assert.equal(parseChallenge(response.headers.get('www-authenticate')).error, undefined);
  });

  it('accepts the scheme name in any case', async () => {
    const response = await post({ authorization: `bearer ${token}` });
    assert.equal(response.status, 200);
  });

  it('answers an invalid token with 401 invalid_token and the reason', async () => {
    const expired = await t.signer.sign(userClaims({ exp: Math.floor(Date.now() / 1000) - 60 }));
    const response = await post({ authorization: `Bearer ${expired}` });
    assert.equal(response.status, 401);
    const params = parseChallenge(response.headers.get('www-authenticate'));
    assert.equal(params.error, 'invalid_token');
    assert.match(params.error_description ?? '', /expired/);
    assert.ok(!(await response.text()).includes(expired));
  });

  it('lets a valid token through to MCP', async () => {
    const response = await t.app.request(legacyRequest('tools/list', undefined, { token }));
    assert.equal(response.status, 200);
    const body = await rpc<{ tools: unknown[] }>(response);
    assert.equal(body.result?.tools.length, 7);
  });

  it('puts the principal and the token on the context', async () => {
    const { logger } = captureLogs();
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use(
      '*',
      bearerAuth({
        verify: { keys: t.signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 },
        challenge: { resourceMetadataUrl: PRM, defaultScopes: [] },
        logger,
      }),
    );
    app.get('/', (c) => c.json({ sub: c.get('principal').sub, same: c.get('token') === token }));
    const response = await app.request('/', { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(await response.json(), { sub: userClaims().sub, same: true });
  });

  it('uses an injected verifier instead of JWT verification, and still requires a bearer header', async () => {
    const { logger } = captureLogs();
    const fixed = {
      sub: 'fixed-sub',
      username: 'x',
      clientId: 'c',
      scopes: [],
      jti: 'j',
      exp: 0,
      tokenHash: 'h',
      sessionId: 'session-1',
      machine: false,
      roles: undefined,
      tokenSha256: 's',
    };
    const seen: string[] = [];
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use(
      '*',
      bearerAuth({
        verify: { keys: t.signer.keys, issuer: ISSUER, resource: RESOURCE, maxTokenBytes: 8192 },
        verifier: async (raw) => {
          seen.push(raw);
          return fixed;
        },
        challenge: { resourceMetadataUrl: PRM, defaultScopes: [] },
        logger,
      }),
    );
    app.get('/', (c) => c.json({ sub: c.get('principal').sub }));
    assert.deepEqual(await (await app.request('/', { headers: { authorization: 'Bearer not-a-jwt' } })).json(), {
      sub: 'fixed-sub',
    });
    assert.deepEqual(seen, ['not-a-jwt']);
    assert.equal((await app.request('/')).status, 401);
  });

  it('rejects two Authorization headers on a real connection with 400', async () => {
    const server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/mcp',
            headers: [
              'host',
              'localhost:3000',
              'content-type',
              'application/json',
              'accept',
              'application/json, text/event-stream',
              'mcp-protocol-version',
              '2025-11-25',
              'authorization',
              `Bearer ${token}`,
              'authorization',
              `Bearer ${token}`,
              'content-length',
              String(Buffer.byteLength(body)),
            ],
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(status, 400);
      assert.match(body, /exactly one Authorization header/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
