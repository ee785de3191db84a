// One launcher, two providers. `make up`, `make down` and the e2e suites all come through here.
export { nodeServiceEnv, startNative, stopNative, readState } from './native.ts';
export { startCompose, stopCompose, composeFile, composeSecrets, prepareComposeMounts } from './compose.ts';
export {
  ensureMachineCredentials,
  ensureStateKey,
  machineClientEnv,
  MACHINE_CLIENTS,
  mintWorkloadToken,
  WORKLOAD_ISSUER,
  SECRETS_DIR,
  type MachineCredentials,
} from './secrets.ts';
export { dockerStatus } from './docker.ts';
export { repoRoot, runDir } from './paths.ts';
export { pingRedis } from './redis.ts';
export { StackError } from './errors.ts';
export { pins } from './versions.ts';
export * from './spec.ts';
export { keycloakAdmin, KeycloakAdminError, type KeycloakAdmin } from './keycloak-admin.ts';
export { ensureSandboxTls, exposedPrivateKeys, getFromClientDocs, PRIVATE_KEY_MODE, TLS_DIR } from './tls.ts';
export {
  startShared,
  stopShared,
  sharedContainers,
  sharedUrls,
  sharedHost,
  SHARED_PORTS,
  SHARED_PROJECT,
  KEYCLOAK_NODES,
  MCP_REPLICAS,
  type SharedStack,
  type SharedUrls,
} from './shared.ts';
export { loopbackFetch } from './loopback-fetch.ts';
