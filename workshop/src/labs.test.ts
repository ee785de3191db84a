import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '@sandbox/stack';
import { findLab, LABS } from './labs.ts';

const doc = readFileSync(join(repoRoot, 'docs', 'workshop.md'), 'utf8');
const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');

describe('labs', () => {
  it('has at least six, each with a unique name, a story, a symptom and what catches it', () => {
    assert.ok(LABS.length >= 6);
    assert.equal(new Set(LABS.map((l) => l.name)).size, LABS.length);
    for (const lab of LABS)
      for (const text of [lab.title, lab.story, lab.symptom, lab.caughtBy]) assert.ok(text.length > 20, lab.name);
  });

  it('names the labs when asked for one that does not exist', () => {
    assert.throws(() => findLab('nope'), /No lab "nope". The labs: audience-mapper, /);
  });

  it('docs/workshop.md has a row for every lab, and every make target it names exists', () => {
    for (const lab of LABS) assert.match(doc, new RegExp(`^\\| \`${lab.name}\` \\|`, 'm'), lab.name);
    const targets = new Set([...doc.matchAll(/`make ([a-z-]+)/g)].map((m) => m[1]));
    assert.ok(targets.size >= 6);
    for (const target of targets) assert.match(makefile, new RegExp(`^${target}:`, 'm'), `make ${target}`);
  });
});
