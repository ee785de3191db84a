// `make images` helpers: the tags it builds and the `.env` it writes must agree with docker-compose.yml and the
// Dockerfiles, or compose would silently pull (or fail to pull) upstream images. No Docker engine needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { StackError } from './errors.ts';
import { composeOverrides, localImageTags, NPM_VERSION, pinnedNodeVersion } from './images.ts';
import { repoRoot } from './paths.ts';
import { pins } from './versions.ts';

describe('make images', () => {
  it('reads the Node version the service Dockerfiles pin, and refuses a Dockerfile without the pin', () => {
    const versions = ['server', 'mock-stock-api', 'client-docs', 'approval-device'].map((dir) =>
      pinnedNodeVersion(readFileSync(join(repoRoot, dir, 'Dockerfile'), 'utf8')),
    );
    assert.match(versions[0] ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(new Set(versions).size, 1);
    assert.throws(
      () => pinnedNodeVersion('FROM node:latest\n'),
      (error: unknown) =>
        error instanceof StackError && error.code === 'bad_config' && /ARG NODE_IMAGE/.test(error.message),
    );
  });

  it('tags each image with the versions it holds, so a version bump builds a new image instead of reusing the old', () => {
    const tags = localImageTags('24.1.2');
    assert.equal(tags.node, `mcp-sandbox/node:24.1.2-npm${NPM_VERSION}-bookworm`);
    assert.ok(tags.keycloak.includes(pins.keycloak), tags.keycloak);
    assert.notEqual(localImageTags('24.1.3').node, tags.node);
  });

  it('writes to .env exactly the variables docker-compose.yml reads, with the CA only when one is set', () => {
    const tags = localImageTags('24.1.2');
    const env = (text: string) =>
      Object.fromEntries(
        text
          .split('\n')
          .filter((line) => /^[A-Z_]+=/.test(line))
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
    const without = env(composeOverrides(tags));
    assert.deepEqual(without, { KEYCLOAK_IMAGE: tags.keycloak, REDIS_IMAGE: tags.redis, NODE_IMAGE: tags.node });
    assert.equal(env(composeOverrides(tags, '/etc/ssl/proxy-ca.pem')).EXTRA_CA_CERTS, '/etc/ssl/proxy-ca.pem');

    const composeText = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    const compose = parse(composeText) as { services: Record<string, { build?: { args?: string[] } }> };
    for (const variable of ['KEYCLOAK_IMAGE', 'REDIS_IMAGE', 'EXTRA_CA_CERTS'])
      assert.ok(composeText.includes(`\${${variable}:-`), `docker-compose.yml does not read ${variable}`);
    assert.ok(compose.services['mcp-server']?.build?.args?.includes('NODE_IMAGE'));
  });
});
