// Entry point: parse config once, build the app, listen, stop cleanly on SIGTERM/SIGINT (drain, then exit).
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { answerClientErrors, drain } from './serve.ts';

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
const logger = createLogger(config.LOG_LEVEL);
if (config.stateKeySource === 'generated')
  logger.log(
    'warn',
    'STATE_KEY is not set: this process made its own; a second replica could not read its requestState',
    {
      fix: 'set STATE_KEY to the same 64 hex characters on every replica (make up generates .run/secrets/state-key)',
    },
  );
const { app, close } = createApp({ config, logger });
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.log('info', 'mcp server listening', {
    address: `${info.address}:${info.port}`,
    resource: config.resourceUrl.href,
    issuer: config.ISSUER_URL,
    cache: config.cacheMode,
  });
});
server.on('error', (error: NodeJS.ErrnoException) => {
  logger.log(
    'error',
    error.code === 'EADDRINUSE'
      ? `port ${config.PORT} is already in use; set PORT or stop the other process`
      : 'server error',
    { message: error.message },
  );
  process.exit(1);
});
answerClientErrors(server as Server, logger);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.log('info', 'shutting down: finishing requests in flight', { signal, timeoutS: config.SHUTDOWN_TIMEOUT_S });
    void drain(server as Server, { timeoutMs: config.SHUTDOWN_TIMEOUT_S * 1000, close, logger })
      .then((finished) => logger.log('info', 'stopped', { finishedInFlight: finished }))
      .finally(() => process.exit(0));
  });
}
