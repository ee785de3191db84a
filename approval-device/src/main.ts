// Entry point: config from the environment, the realm's keys and sign-in, HTTP server, JSON logs on stdout.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { realmKeys, realmSignIn } from './keycloak.ts';
import { closeOnSignals, configOrExit, now, writeJsonLine } from '@sandbox/service-kit';

const write = writeJsonLine;

const config = configOrExit(() => loadConfig(process.env), write);
const app = createApp({ config, log: write, keys: realmKeys(config), signIn: realmSignIn(config) });
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  write({
    at: now(),
    level: 'info',
    msg: 'listening',
    url: `http://${config.HOST}:${info.port}`,
    publicUrl: config.PUBLIC_URL,
    issuer: config.ISSUER_URL,
    jwks: config.jwksUrl,
    callback: config.KEYCLOAK_CALLBACK_URL,
    cibaClients: config.CIBA_CLIENT_IDS,
    allowedHosts: config.ALLOWED_HOSTS,
  });
});

closeOnSignals(server, write);
