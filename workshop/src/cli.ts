// `make lab NAME=…`, `make lab-try`, `make lab-reset`, `make doctor [REALM=file-or-url]` (docs/workshop.md).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, REALM, repoRoot, urlsFor } from '@sandbox/stack';
import { checkRealm, type Finding } from './doctor.ts';
import { checkPrivateKeys, checkStateKey } from './doctor-files.ts';
import { checkStack } from './doctor-live.ts';
import { connectKeycloak } from './keycloak.ts';
import { findLab, LABS, resetAll } from './labs.ts';

const defaults = urlsFor(DEFAULT_PORTS);
const USAGE = `usage: workshop lab [NAME] | lab-try [NAME] | lab-reset | doctor [--realm FILE_OR_URL]
  options: --keycloak URL  --mcp URL  --stock-api URL   (defaults: the make up stack)`;
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      keycloak: { type: 'string', default: defaults.keycloak },
      mcp: { type: 'string', default: defaults.mcp },
      'stock-api': { type: 'string', default: defaults.stockApi },
      realm: { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
const [command = 'help', name = ''] = values.help ? ['help'] : positionals;
const kc = connectKeycloak(values.keycloak);
const ctx = { kc, mcpUrl: values.mcp };
const STATE = join(repoRoot, '.run', 'lab.json');
const current = () => (existsSync(STATE) ? (JSON.parse(readFileSync(STATE, 'utf8')) as { name: string }).name : '');

function printFindings(findings: Finding[], what: string): void {
  if (findings.length === 0) return void console.log(`make doctor: no findings in ${what}.`);
  console.log(`make doctor: ${findings.length} finding(s) in ${what}:\n`);
  for (const f of findings) console.log(`  [${f.id}] ${f.problem}\n      fix: ${f.fix}\n`);
}

async function loadRealm(source: string): Promise<unknown> {
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`GET ${source} answered ${response.status}`);
    return response.json();
  }
  return JSON.parse(readFileSync(source, 'utf8'));
}

async function main(): Promise<number> {
  switch (command) {
    case 'lab': {
      if (!name) {
        console.log('The labs (make lab NAME=<name>; make lab-try; make lab-reset):\n');
        for (const lab of LABS) console.log(`  ${lab.name.padEnd(20)} ${lab.title}`);
        console.log(`\nNow broken: ${current() || 'none (everything as shipped)'}`);
        return 0;
      }
      const lab = findLab(name);
      await resetAll(ctx);
      await lab.break(ctx);
      mkdirSync(join(repoRoot, '.run'), { recursive: true });
      writeFileSync(STATE, JSON.stringify({ name: lab.name, at: new Date().toISOString() }));
      console.log(`Lab ${lab.name}: ${lab.title}. Done, through Keycloak's admin API.\n`);
      console.log(`Why it matters: ${lab.story}\nWhat you will see: ${lab.symptom}`);
      console.log(`What catches it: ${lab.caughtBy}\n`);
      console.log('Next: make lab-try (shows the symptom), make doctor (finds it), make lab-reset (puts it back).');
      return 0;
    }
    case 'lab-try': {
      const lab = findLab(name || current() || LABS[0]!.name);
      if (!name && !current())
        console.log(
          `No lab applied (make lab NAME=<name> first); probing the shipped realm with the ${lab.name} check:`,
        );
      const seen = await lab.probe(ctx);
      console.log(`${lab.name}: ${seen.observed}`);
      console.log(seen.broken ? `  → the symptom of ${lab.name}: ${lab.symptom}` : '  → as shipped: no symptom.');
      return 0;
    }
    case 'lab-reset': {
      await resetAll(ctx);
      rmSync(STATE, { force: true });
      console.log('Every lab setting is back as keycloak/realm/sandbox-realm.json ships it.');
      return 0;
    }
    case 'doctor': {
      if (values.realm) {
        const findings = checkRealm(await loadRealm(values.realm), values.mcp);
        printFindings(findings, values.realm);
        return findings.length ? 1 : 0;
      }
      const live = [
        ...checkPrivateKeys(),
        ...checkStateKey(),
        ...(await checkStack({ keycloak: values.keycloak, mcpUrl: values.mcp, stockApi: values['stock-api'] }, kc)),
      ];
      const realm = live.some((f) => f.id === 'keycloak')
        ? []
        : checkRealm(
            await kc.admin(`/partial-export?exportClients=true&exportGroupsAndRoles=true`, { method: 'POST' }),
            values.mcp,
          );
      printFindings([...live, ...realm], `the stack at ${values.mcp} and realm ${REALM} at ${values.keycloak}`);
      return live.length + realm.length ? 1 : 0;
    }
    default:
      console.log(USAGE);
      return command === 'help' ? 0 : 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`${error.name === 'WorkshopError' ? '' : `${error.name}: `}${error.message}`);
    process.exit(2);
  },
);
