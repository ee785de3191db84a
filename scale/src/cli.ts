// `make attendees N=40` and `make scale N=40`: the room's users, and the room at once against a running stack.
//   node scale/src/cli.ts attendees --n 40
//   node scale/src/cli.ts run --n 40 [--big-order 40] [--fault '20:stop mcp-2:docker stop <container>']
//   node scale/src/cli.ts run --n 40 --profile shared   (the shared profile: its https URLs, its host mapped to
//                                                        127.0.0.1, the sandbox's local CA trusted)
// URLs default to the `make up` stack's; override with --mcp, --keycloak, --device, --stock-api. Results go to
// scale/results/scale-<time>.json and .svg. Exit 1 when anything leaked or an order was lost or doubled.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_PORTS,
  keycloakAdmin,
  loopbackFetch,
  repoRoot,
  sharedHost,
  sharedUrls,
  TLS_DIR,
  urlsFor,
} from '@sandbox/stack';
import { chartSvg, runScale, type Fault } from './scale.ts';
import { attendeeSheet, ensureAttendees } from './users.ts';

const defaults = urlsFor(DEFAULT_PORTS);
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: 'string', default: '40' },
    mcp: { type: 'string', default: defaults.mcp },
    keycloak: { type: 'string', default: defaults.keycloak },
    device: { type: 'string', default: defaults.approvalDevice },
    'stock-api': { type: 'string', default: defaults.stockApi },
    'big-order': { type: 'string', default: '40' },
    fault: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: join(repoRoot, 'scale', 'results') },
    profile: { type: 'string' },
  },
});
if (values.profile !== undefined && values.profile !== 'shared') {
  console.error('--profile must be shared (or left out for the `make up` stack)');
  process.exit(2);
}
// The shared profile: https through haproxy, its host name mapped to loopback, the local CA trusted.
const shared = values.profile === 'shared' ? sharedUrls() : undefined;
const fetchFn = shared ? loopbackFetch(sharedHost(), readFileSync(join(TLS_DIR, 'ca.crt'))) : fetch;
const target = shared
  ? { mcp: shared.mcp, keycloak: shared.keycloak, device: shared.approvalDevice, stockApi: 'http://127.0.0.1:1' }
  : { mcp: values.mcp, keycloak: values.keycloak, device: values.device, stockApi: values['stock-api'] };
const count = Number(values.n);
if (!Number.isInteger(count) || count < 1 || count > 500) {
  console.error('--n must be an integer from 1 to 500 (attendees)');
  process.exit(2);
}
const faults: Fault[] = values.fault.map((spec) => {
  const [at = '', label = '', ...command] = spec.split(':');
  if (!/^\d+$/.test(at) || !label || command.length === 0) {
    console.error(`--fault "${spec}" must be <seconds>:<label>:<shell command>`);
    process.exit(2);
  }
  return { atS: Number(at), label, command: command.join(':') };
});

const admin = keycloakAdmin(target.keycloak, undefined, fetchFn);
const attendees = await ensureAttendees(admin, count);
if (positionals[0] === 'attendees') {
  console.log(attendeeSheet(attendees, { mcp: target.mcp, explorer: new URL('/explorer', target.mcp).href }));
  process.exit(0);
}
if (positionals[0] !== 'run') {
  console.error('usage: cli.ts attendees|run [--n N] …');
  process.exit(2);
}
const report = await runScale({
  mcp: target.mcp,
  approvalDevice: target.device,
  stockApi: target.stockApi,
  fetch: fetchFn,
  bigOrder: Number(values['big-order']),
  attendees,
  faults,
});
mkdirSync(values.out, { recursive: true });
const stamp = report.at.replace(/[:.]/g, '-');
const file = join(values.out, `scale-${stamp}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(file.replace(/\.json$/, '.svg'), chartSvg(report));
console.log(
  `${report.attendees} attendees in ${report.durationS} s: ${report.calls.succeeded}/${report.calls.attempted} steps ok, failed by class ${JSON.stringify(report.calls.failedByClass)}`,
);
for (const [step, stats] of Object.entries(report.steps))
  console.log(
    `  ${step.padEnd(16)} ${stats.succeeded}/${stats.attempted}  p50 ${stats.p50Ms} ms  p99 ${stats.p99Ms} ms`,
  );
console.log(
  `leaks ${report.leaks}, orders lost ${report.ordersLost}, doubled ${report.ordersDoubled}, exchanges per (user, scope) max ${report.exchangesPerUserScope.max}; ${file}`,
);
process.exit(report.leaks || report.ordersLost || report.ordersDoubled ? 1 : 0);
