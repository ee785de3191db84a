export { ConfigError, hostVar, integerVar, parseEnv, portVar, unsetIfEmpty } from './config.ts';
export {
  batchedJsonLines,
  closeOnSignals,
  configOrExit,
  now,
  writeJsonLine,
  type LogLine,
  type WriteLog,
} from './service.ts';
