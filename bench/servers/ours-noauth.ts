// Variant 3: our server with JWT verification replaced by a verifier that accepts every bearer token as one fixed
// principal (createApp's tokenVerifier, settable only from code). Everything else — Host/Origin guard, scope gate,
// fast path, exchange cache, stock API — is on, and the bearer token sent is still the one exchanged.
// argv: port; env: the server's normal config plus BENCH_TOKEN (the real user token the load generator sends).
import { serve } from '@hono/node-server';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { createApp } from '../../server/src/app.ts';
import type { Principal } from '../../server/src/auth/verify.ts';
import { loadConfig } from '../../server/src/config.ts';

// The entry point reads its environment once, as server/src/main.ts does.
const env = process.env;
const token = z
  .string({ error: '"BENCH_TOKEN" must be a user access token' })
  .min(20, '"BENCH_TOKEN" must be a user access token')
  .parse(env.BENCH_TOKEN);
const claims = decodeJwt(token);
const principal: Principal = {
  sub: String(claims.sub),
  username: String(claims.preferred_username),
  clientId: String(claims.azp),
  scopes: String(claims.scope).split(' '),
  jti: String(claims.jti),
  sessionId: String(claims.sid),
  machine: false,
  roles: undefined,
  exp: Number(claims.exp),
  tokenHash: 'bench',
  tokenSha256: 'bench-fixed-principal',
};
const config = loadConfig({ ...env, PORT: process.argv[2] ?? '3903' });
const { app } = createApp({ config, tokenVerifier: async () => principal });
serve({ fetch: app.fetch, port: config.PORT, hostname: '127.0.0.1' });
