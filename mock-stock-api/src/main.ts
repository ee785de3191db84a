// Entry point: config from the environment, remote JWKS, HTTP server, JSON logs on stdout.
import { serve } from '@hono/node-server';
import { createRemoteJWKSet } from 'jose';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { batchedJsonLines, closeOnSignals, configOrExit, now } from '@sandbox/service-kit';

// Lines are batched per event-loop turn: one write syscall per batch, not per request (flushed on exit).
const write = batchedJsonLines();

const config = configOrExit(() => loadConfig(process.env), write);
const keys = createRemoteJWKSet(new URL(config.JWKS_URL), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
const app = createApp({ config, keys, log: write });

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  write({
    at: now(),
    level: 'info',
    msg: 'listening',
    url: `http://${config.HOST}:${info.port}`,
    issuer: config.ISSUER_URL,
    jwksUrl: config.JWKS_URL,
    audience: config.AUDIENCE,
    exchangeClientId: config.EXCHANGE_CLIENT_ID,
  });
});

closeOnSignals(server, write);
