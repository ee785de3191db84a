// `node stack/src/cli.ts up|down|status|images --profile shared [--volumes]`, what `make … PROFILE=shared` runs.
import { spawnSync } from 'node:child_process';
import { prepareComposeMounts } from './compose.ts';
import { StackError } from './errors.ts';
import { buildLocalImages } from './images.ts';
import {
  SHARED_PROJECT,
  sharedContainers,
  sharedEnvFile,
  startShared,
  stopShared,
  type SharedStack,
} from './shared.ts';
import { buildSharedImages } from './shared-images.ts';
import { ADMIN, PUBLIC_CLIENT_ID, SANDBOX_USERS } from './spec.ts';
import { TLS_DIR } from './tls.ts';

type Log = (line: string) => void;

/** Runs one command on the shared profile; resolves with the stack when `up` started it. */
export async function runShared(command: string, options: { volumes: boolean }, log: Log): Promise<SharedStack | void> {
  switch (command) {
    case 'up':
      return startShared(log);
    case 'down': {
      if (sharedContainers().length === 0 && !options.volumes) {
        log(`nothing to stop (no container of project ${SHARED_PROJECT}); the database volume, if any, is kept`);
        return;
      }
      stopShared({ volumes: options.volumes });
      log(
        options.volumes
          ? 'stopped; the database volume is removed (the next `make up PROFILE=shared` imports the realm again)'
          : 'stopped; the database volume is kept (registered clients, users, sessions); VOLUMES=1 removes it',
      );
      return;
    }
    case 'status': {
      spawnSync('docker', ['compose', '-p', SHARED_PROJECT, 'ps'], { stdio: 'inherit' });
      return;
    }
    case 'images': {
      const local = await buildLocalImages(log);
      await prepareComposeMounts(log);
      const shared = await buildSharedImages(log, local);
      log(
        `shared profile images ready:\n${Object.entries(shared)
          .map(([name, tag]) => `  ${name.padEnd(15)} ${tag}`)
          .join('\n')}`,
      );
      return;
    }
    default:
      throw new StackError(
        'bad_config',
        `the shared profile has no command "${command}"`,
        'use up, down (with --volumes to remove the database), status or images',
      );
  }
}

export function printSharedReady(stack: SharedStack): void {
  const u = stack.urls;
  console.log(`
ready in ${stack.timings.total} s (shared profile: certificate and images ${stack.timings.prepare} s, compose up ${stack.timings.up} s)
${stack.imagesBuilt.length ? `  built: ${stack.imagesBuilt.join(', ')}\n` : ''}
  Keycloak (2 nodes)  ${u.keycloak}   (admin console: ${u.keycloak}/admin  ${ADMIN.username} / ${ADMIN.password})
  Issuer              ${u.issuer}
  MCP server (2)      ${u.mcp}
  Explorer            ${u.mcpOrigin}/explorer
  Approval device     ${u.approvalDevice}/users/alice
  Client docs         ${u.clientDocs}/clients
  Balancer            ${u.balancerHealth}  (stats: ${u.balancerHealth.replace('/healthz', '/stats')})
  Each node alone     ${u.keycloakNodes.join(', ')}   health: ${u.keycloakNodesManagement.map((m) => `${m}/health/ready`).join(', ')}
  CA to trust         ${TLS_DIR}/ca.crt   (curl --cacert …; ${u.host} must resolve to this machine: docs/scale.md)

  Users (demo only): ${SANDBOX_USERS.map((user) => `${user.username} / ${user.password}`).join(', ')}; public CLI client ${PUBLIC_CLIENT_ID}
  What compose read: ${sharedEnvFile}
  make down PROFILE=shared keeps the database; make down PROFILE=shared VOLUMES=1 removes it`);
}
