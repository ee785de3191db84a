// Workshop mode: break-and-fix labs (Keycloak admin API) and `make doctor`.
export { checkRealm, resolvePlaceholders, type Finding } from './doctor.ts';
export { checkPrivateKeys, checkStateKey } from './doctor-files.ts';
export { checkStack } from './doctor-live.ts';
export { connectKeycloak, PROBE_CLIENT_ID, type Keycloak } from './keycloak.ts';
export { findLab, LABS, resetAll, type Lab } from './labs.ts';
