// Static checks of the two Dockerfiles and .dockerignore against docker-compose.yml. No Docker engine needed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ports, service } from './compose-file.testing.ts';
import { repoRoot } from './paths.ts';

describe('Dockerfiles', () => {
  const workspaces = [
    { dir: 'server', service: 'mcp-server' },
    { dir: 'mock-stock-api', service: 'stock-api' },
    { dir: 'client-docs', service: 'client-docs' },
    { dir: 'approval-device', service: 'approval-device' },
  ] as const;
  /** The base image, with `FROM ${NODE_IMAGE}` resolved to the ARG's default (the upstream image). */
  const from = (dockerfile: string) => {
    const base = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1] ?? '';
    const arg = /^\$\{?([A-Z_]+)\}?$/.exec(base)?.[1];
    return arg ? (new RegExp(`^ARG ${arg}=(\\S+)$`, 'm').exec(dockerfile)?.[1] ?? '') : base;
  };

  for (const { dir, service: name } of workspaces) {
    const dockerfile = readFileSync(join(repoRoot, dir, 'Dockerfile'), 'utf8');
    const packageName = (JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as { name: string })
      .name;

    it(`${dir}: builds on a pinned Node ${'>='} 22 slim image`, () => {
      const match = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(from(dockerfile));
      assert.ok(match, `${dir}/Dockerfile FROM "${from(dockerfile)}" must be node:<x.y.z>-<debian>-slim`);
      assert.ok(Number(match[1]) >= 22, `${dir}/Dockerfile uses Node ${match[1]}; the project needs 22+`);
    });

    it(`${dir}: installs only its workspace's runtime dependencies from the root lockfile`, () => {
      assert.match(dockerfile, /^COPY package\.json package-lock\.json \.\/$/m);
      assert.match(dockerfile, new RegExp(`^COPY ${dir}/package\\.json ${dir}/$`, 'm'));
      // The RUN may span lines (backslash continuations): join them first.
      const install = /(npm ci [^\n]*)/.exec(dockerfile.replace(/\\\n\s*/g, ' '))?.[1] ?? '';
      for (const flag of ['--omit=dev', `--workspace=${packageName}`, '--include-workspace-root=false']) {
        assert.ok(install.split(/\s+/).includes(flag), `${dir}/Dockerfile npm ci lacks ${flag}`);
      }
      assert.match(dockerfile, new RegExp(`^COPY ${dir}/src ${dir}/src$`, 'm'));
      assert.ok(
        dockerfile.indexOf('npm ci') < dockerfile.indexOf(`COPY ${dir}/src`),
        'install before copying sources, so code edits keep the dependency layer cached',
      );
    });

    it(`${dir}: copies each sandbox workspace it depends on (manifest before npm ci, sources after)`, () => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      const local = Object.keys(manifest.dependencies ?? {})
        .filter((name) => name.startsWith('@sandbox/'))
        .map((name) => name.slice('@sandbox/'.length));
      for (const other of local) {
        const copiesManifest = dockerfile.indexOf(`COPY ${other}/package.json ${other}/`);
        const copiesSources = dockerfile.indexOf(`COPY ${other}/src ${other}/src`);
        assert.ok(
          copiesManifest >= 0 && copiesManifest < dockerfile.indexOf('npm ci'),
          `${dir} needs ${other}'s manifest`,
        );
        assert.ok(copiesSources > dockerfile.indexOf('npm ci'), `${dir} needs ${other}'s sources`);
      }
    });

    it(`${dir}: runs src/main.ts as the node user`, () => {
      assert.match(dockerfile, /^USER node$/m);
      assert.match(dockerfile, new RegExp(`^WORKDIR /app/${dir}$`, 'm'));
      assert.match(dockerfile, /^CMD \["node", "src\/main\.ts"\]$/m);
      assert.ok(existsSync(join(repoRoot, dir, 'src', 'main.ts')));
      const exposed = Number(/^EXPOSE (\d+)$/m.exec(dockerfile)?.[1]);
      assert.equal(exposed, ports(name)[0]?.target, `${dir}/Dockerfile EXPOSE must match the compose port`);
      const build = service(name).build;
      assert.ok(build && typeof build === 'object');
      assert.equal(build.dockerfile, `${dir}/Dockerfile`);
    });
  }

  it('take the base image from ARG NODE_IMAGE (the `make images` stand-in) and read the build CA only as a secret', () => {
    for (const { dir } of workspaces) {
      const dockerfile = readFileSync(join(repoRoot, dir, 'Dockerfile'), 'utf8');
      assert.match(dockerfile, /^ARG NODE_IMAGE=node:\S+$/m, `${dir}/Dockerfile`);
      assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\}$/m, `${dir}/Dockerfile`);
      assert.match(dockerfile, /^RUN --mount=type=secret,id=extra_ca /m, `${dir}/Dockerfile`);
      assert.doesNotMatch(dockerfile, /^(ENV|ARG) .*CA_CERTS/m, `${dir}/Dockerfile must not keep the CA in the image`);
    }
  });

  it('all the Node images share one base image', () => {
    const bases = workspaces.map(({ dir }) => from(readFileSync(join(repoRoot, dir, 'Dockerfile'), 'utf8')));
    assert.equal(new Set(bases).size, 1, `different bases: ${bases.join(', ')}`);
  });

  it('.dockerignore keeps local state and dependencies out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['node_modules', '**/node_modules', '.run', '.tools', 'test-results', '.git', '.env']) {
      assert.ok(ignored.includes(entry), `.dockerignore lacks ${entry}`);
    }
  });
});
