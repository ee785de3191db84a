// Entry point: config from the environment, HTTP server, JSON logs on stdout.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

const write = (entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(entry)}\n`);

function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    write({ at: new Date().toISOString(), level: 'fatal', msg: 'invalid_config', problems: err.problems });
    process.exit(1);
  }
}

const config = configOrExit();
const app = createApp({ config, log: write });
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  write({
    at: new Date().toISOString(),
    level: 'info',
    msg: 'listening',
    url: `http://${config.HOST}:${info.port}`,
    callback: config.KEYCLOAK_CALLBACK_URL,
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    write({ at: new Date().toISOString(), level: 'info', msg: 'shutdown', signal });
    server.close(() => process.exit(0));
  });
}
