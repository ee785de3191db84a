// Entry point: config from the environment, remote JWKS, HTTP server, JSON logs on stdout.
import { serve } from '@hono/node-server';
import { createRemoteJWKSet } from 'jose';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import type { Config } from './config.ts';
import type { LogEntry } from './log.ts';

// Lines are batched per event-loop turn: one write syscall per batch, not per request (flushed on exit).
let pending: string[] = [];
const flush = () => {
  if (pending.length) {
    const chunk = pending.join('');
    pending = [];
    process.stdout.write(chunk);
  }
};
process.once('exit', flush);
const write = (entry: LogEntry) => {
  if (pending.push(`${JSON.stringify(entry)}\n`) === 1) setImmediate(flush);
};

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
const keys = createRemoteJWKSet(new URL(config.JWKS_URL), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
const app = createApp({ config, keys, log: write });

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  write({
    at: new Date().toISOString(),
    level: 'info',
    msg: 'listening',
    url: `http://${config.HOST}:${info.port}`,
    issuer: config.ISSUER_URL,
    jwksUrl: config.JWKS_URL,
    audience: config.AUDIENCE,
    exchangeClientId: config.EXCHANGE_CLIENT_ID,
  });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    write({ at: new Date().toISOString(), level: 'info', msg: 'shutdown', signal });
    server.close(() => process.exit(0));
  });
}
