// The workflow lint can fail: each broken variant of the repository's own files gets a finding naming the mistake.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { lintFile, workflowFiles } from './lint-workflows.ts';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const REUSABLE = '.github/workflows/mcp-auth-check.yml';
const ACTION = '.github/actions/mcp-auth-check/action.yml';

/** The file with one exact substring replaced (fails loudly if the file no longer has it). */
function broken(path: string, from: string, to: string): string {
  const source = read(path);
  assert.ok(source.includes(from), `${path} no longer contains ${JSON.stringify(from)}; update this test`);
  return source.replace(from, to);
}

describe('lintFile', () => {
  it('passes every workflow and action file of the repository', async () => {
    const files = workflowFiles(root).map((file) => relative(root, file));
    assert.ok(files.includes(REUSABLE) && files.includes(ACTION), `found: ${files.join(', ')}`);
    for (const file of files) assert.deepEqual(await lintFile(file, read(file)), [], file);
  });

  it('rejects a workflow that reads an input the workflow_call does not declare', async () => {
    const findings = await lintFile(
      REUSABLE,
      broken(REUSABLE, 'server-url: ${{ inputs.server-url }}', 'server-url: ${{ inputs.server_url }}'),
    );
    assert.ok(
      findings.some((f) => f.kind === 'expression' && /property "server_url" is not defined/.test(f.message)),
      JSON.stringify(findings),
    );
  });

  it('rejects a job that needs a job the workflow does not have', async () => {
    const findings = await lintFile(
      REUSABLE,
      broken(REUSABLE, '    runs-on: ubuntu-24.04', '    needs: build\n    runs-on: ubuntu-24.04'),
    );
    assert.ok(
      findings.some((f) => /needs job "build" which does not exist/.test(f.message)),
      JSON.stringify(findings),
    );
  });

  it('rejects a workflow_call input of a type GitHub does not have', async () => {
    const findings = await lintFile(
      REUSABLE,
      broken(REUSABLE, 'type: string\n        required: true', 'type: text\n        required: true'),
    );
    assert.ok(findings.length > 0, 'a workflow_call input of type "text" passed');
  });

  it('rejects a composite action step that runs a script without a shell', async () => {
    const findings = await lintFile(
      ACTION,
      broken(
        ACTION,
        '      shell: bash\n      working-directory: ${{ github.action_path }}/../../..\n      run: npm ci',
        '      working-directory: ${{ github.action_path }}/../../..\n      run: npm ci',
      ),
    );
    assert.ok(
      findings.some((f) => /shell/.test(f.message)),
      JSON.stringify(findings),
    );
  });

  it('rejects an action metadata file without runs', async () => {
    const findings = await lintFile(ACTION, 'name: x\ndescription: y\n');
    assert.ok(
      findings.some((f) => /runs/.test(f.message)),
      JSON.stringify(findings),
    );
  });
});
