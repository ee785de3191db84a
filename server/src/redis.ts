// One way to connect to Redis for everything this server keeps there (exchange cache, explorer state): commands fail
// at once while it is down (no offline queue, short timeouts), the client reconnects in the background, and each
// distinct failure is reported once.
import { Redis } from 'ioredis';

export interface RedisConnection {
  redis: Redis;
  /** The last failure since the connection was last ready, if any. */
  lastError(): string | undefined;
  /** Reports a command's failure (the same message once). */
  report(error: Error): void;
}

export function connectRedis(url: string, onError: (error: Error) => void): RedisConnection {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(250 * attempt, 2000),
  });
  let lastError: string | undefined;
  const report = (error: Error) => {
    if (lastError !== error.message) onError(error);
    lastError = error.message;
  };
  redis.on('error', report);
  redis.on('ready', () => {
    lastError = undefined;
  });
  return { redis, lastError: () => lastError, report };
}
