// `node stack/src/cli.ts up|down|status|fetch|images [--provider auto|native|compose] [--name up]`
// `--profile shared` (up, down, images): the shared profile, docker-compose.shared.yml (docs/scale.md); `down --volumes`
// also removes its database.
import { parseArgs } from 'node:util';
import { dockerStatus } from './docker.ts';
import { StackError } from './errors.ts';
import { stackSettings } from './settings.ts';
import { findJava } from './java.ts';
import { ensureKeycloakDist } from './keycloak-dist.ts';
import { readState, startNative, stopNative } from './native.ts';
import { prepareComposeMounts, startCompose, stopCompose } from './compose.ts';
import { buildLocalImages } from './images.ts';
import { printSharedReady, runShared } from './shared-cli.ts';
import { ADMIN, DEFAULT_PORTS, PUBLIC_CLIENT_ID, SANDBOX_USERS, type RunningStack } from './spec.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    provider: { type: 'string' },
    name: { type: 'string', default: 'up' },
    profile: { type: 'string', default: 'laptop' },
    volumes: { type: 'boolean', default: false },
  },
});
const command = positionals[0] ?? 'help';
const log = (line: string) => console.log(line);

function printReady(stack: RunningStack): void {
  const u = stack.urls;
  console.log(`\nready in ${stack.timings.total} s (${stack.provider} provider)`);
  for (const note of stack.notes) console.log(`  ${note}`);
  const per = Object.entries(stack.timings)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ');
  if (per) console.log(`  timings: ${per}`);
  console.log(`
  Keycloak         ${u.keycloak}   (admin console: ${u.keycloak}/admin  ${ADMIN.username} / ${ADMIN.password})
  Issuer           ${u.issuer}
  MCP server       ${u.mcp}
  PRM metadata     ${u.mcpOrigin}/.well-known/oauth-protected-resource/mcp
  Explorer         ${u.mcpOrigin}/explorer   (workshop: sign in, then watch your own tool calls' token exchanges)
  Stock API        ${u.stockApi}   (only accepts exchanged tokens)
  Redis            ${stack.provider === 'compose' ? 'inside the compose network only (redis:6379; no host port)' : u.redis}
  Client docs      ${u.clientDocs}/clients   (CIMD documents; CA: .run/tls/ca.crt)
  Approval device  ${u.approvalDevice}/users/alice   (alice's second device: approve large orders here)

  Sandbox users (demo only, never reuse these passwords):
${SANDBOX_USERS.map((user) => `    ${user.username.padEnd(6)} / ${user.password.padEnd(14)} ${user.can}`).join('\n')}
  Public client for CLIs: ${PUBLIC_CLIENT_ID} (PKCE S256, loopback redirects)
  CIMD client IDs (no registration): ${u.clientDocs}/clients/sdk-reference.json, …/inspector.json

  Next: make test        or   npx @modelcontextprotocol/inspector   (Streamable HTTP, URL ${u.mcp})
        make call TOOL=get_portfolio, then watch it at ${u.mcpOrigin}/explorer   (workshop: docs/workshop.md)
        make down        stops exactly what this started`);
}

async function main(): Promise<void> {
  if (values.profile !== 'laptop') {
    if (values.profile !== 'shared')
      throw new StackError('bad_config', `unknown profile "${values.profile}"`, 'use PROFILE=shared, or no PROFILE');
    const stack = await runShared(command, { volumes: values.volumes }, log);
    if (stack) printSharedReady(stack);
    return;
  }
  switch (command) {
    case 'up': {
      let provider = values.provider ?? stackSettings().provider;
      if (provider === 'auto') {
        const docker = dockerStatus();
        provider = docker.available ? 'compose' : 'native';
        console.log(`provider: ${provider} (${docker.reason})`);
      }
      const stack =
        provider === 'compose'
          ? await startCompose({ name: values.name, ports: DEFAULT_PORTS }, log)
          : await startNative({ name: values.name, ports: DEFAULT_PORTS }, log);
      printReady(stack);
      return;
    }
    case 'down': {
      const state = readState(values.name);
      if (state) {
        const stopped = await stopNative(values.name, log);
        console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
      } else if (dockerStatus().available) {
        stopCompose();
      } else {
        console.log('nothing to stop (no native state in .run/, no Docker engine)');
      }
      return;
    }
    case 'status': {
      const state = readState(values.name);
      console.log(state ? JSON.stringify(state, null, 2) : 'not running');
      return;
    }
    case 'fetch': {
      const java = findJava();
      const dist = await ensureKeycloakDist(java, log);
      console.log(
        `Keycloak ${dist.version} ${dist.fetchedNow ? `fetched via ${dist.via}` : 'already cached'} at ${dist.home} (Java ${java.major}: ${java.path})`,
      );
      return;
    }
    case 'images': {
      const images = await buildLocalImages(log);
      log(`mounted by compose: ${(await prepareComposeMounts(log)).join(', ')}`);
      console.log(
        `local images ready:\n${Object.entries(images)
          .map(([name, tag]) => `  ${name.padEnd(9)} ${tag}`)
          .join('\n')}`,
      );
      return;
    }
    default:
      console.log(
        'usage: node stack/src/cli.ts up|down|status|fetch|images [--provider auto|native|compose] [--name NAME] [--profile shared [--volumes]]',
      );
      if (command !== 'help') process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  if (error instanceof StackError) console.error(`\nERROR (${error.code}): ${error.toUserString()}`);
  else console.error(error);
  process.exitCode = 1;
});
