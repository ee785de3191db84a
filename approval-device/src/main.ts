// Entry point: config from the environment, HTTP server, JSON logs on stdout.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { closeOnSignals, configOrExit, now, writeJsonLine } from '@sandbox/service-kit';

const write = writeJsonLine;

const config = configOrExit(() => loadConfig(process.env), write);
const app = createApp({ config, log: write });
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  write({
    at: now(),
    level: 'info',
    msg: 'listening',
    url: `http://${config.HOST}:${info.port}`,
    callback: config.KEYCLOAK_CALLBACK_URL,
  });
});

closeOnSignals(server, write);
