// Entry point: config from the environment, an HTTPS server with the local CA's certificate, JSON logs on stdout.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { closeOnSignals, configOrExit, now, writeJsonLine } from '@sandbox/service-kit';

const write = writeJsonLine;

function readTls(config: Config): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
  } catch (err) {
    write({
      at: now(),
      level: 'fatal',
      msg: 'tls_files_unreadable',
      problem: (err as Error).message,
      fix: '`make up` writes them into .run/tls/ (stack/src/tls.ts); or point TLS_CERT_FILE and TLS_KEY_FILE at your own',
    });
    process.exit(1);
  }
}

const config = configOrExit(() => loadConfig(process.env), write);
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
      at: now(),
      level: 'info',
      msg: 'listening',
      url: `https://${config.HOST}:${info.port}`,
      publicUrl: config.PUBLIC_URL,
    });
  },
);

closeOnSignals(server, write);
