// check-client: does an MCP client get through discovery, registration, login and step-up against the sandbox?
export { classify, STEPS } from './classify.ts';
export { CHECK_CLIENT_USAGE, parseCheckClientArgs, type CheckClientOptions } from './options.ts';
export type { AuthorizationRequest, Exchange, Observations } from './observations.ts';
export { ClientSetupError, runCheckClient } from './run.ts';
