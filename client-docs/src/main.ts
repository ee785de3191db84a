// Entry point: config from the environment, an HTTPS server with the local CA's certificate, JSON logs on stdout.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
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

function readTls(config: Config): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  } catch (err) {
    write({
      at: new Date().toISOString(),
      level: 'fatal',
      msg: 'tls_files_unreadable',
      problem: (err as Error).message,
      fix: '`make up` writes them into .run/tls/ (stack/src/tls.ts); or point TLS_CERT_FILE and TLS_KEY_FILE at your own',
    });
    process.exit(1);
  }
}

const config = configOrExit();
const app = createApp({ config, log: write });
const server = serve(
  {
    fetch: app.fetch,
    port: config.PORT,
    hostname: config.HOST,
    createServer,
    serverOptions: readTls(config),
  },
  (info) => {
    write({
      at: new Date().toISOString(),
      level: 'info',
      msg: 'listening',
      url: `https://${config.HOST}:${info.port}`,
      publicUrl: config.PUBLIC_URL,
    });
  },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    write({ at: new Date().toISOString(), level: 'info', msg: 'shutdown', signal });
    server.close(() => process.exit(0));
  });
}
