// Entry point: parse config once, build the app, listen, stop cleanly on SIGTERM/SIGINT.
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

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
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    void close().finally(() => process.exit(0));
  });
}
