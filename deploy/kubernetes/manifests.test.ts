// Checks deploy/kubernetes by machine, offline: every manifest against the Kubernetes OpenAPI schemas that the npm
// package kubernetes-models compiles with ajv (types, required fields, enums, formats), unknown fields through
// TypeScript's excess-property check against the same package's declarations (what kubeconform -strict does), then
// what no schema says: pinned images, resources, probes, securityContext, Service and Ingress wiring, NetworkPolicies,
// env names against each service's .env.example, and the public URLs agreeing with each other and with the realm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { pins } from '../../stack/src/versions.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Doc {
  file: string;
  index: number;
  body: Obj;
}

const files = readdirSync(here)
  .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
  .sort();
const docs: Doc[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(here, file), 'utf8')).map((doc, index) => {
    assert.deepEqual(doc.errors, [], `${file} document ${index} does not parse`);
    return { file, index, body: doc.toJS() as Obj };
  }),
);
const kustomization = parseAllDocuments(readFileSync(join(here, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as Obj;

/** kubernetes-models module, class and declaration for each kind used here. */
const MODELS: Record<string, { module: string; type: string }> = {
  'v1/Namespace': { module: 'kubernetes-models/v1', type: 'Namespace' },
  'v1/Service': { module: 'kubernetes-models/v1', type: 'Service' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1', type: 'Deployment' },
  'apps/v1/StatefulSet': { module: 'kubernetes-models/apps/v1', type: 'StatefulSet' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1', type: 'PodDisruptionBudget' },
  'networking.k8s.io/v1/Ingress': { module: 'kubernetes-models/networking.k8s.io/v1', type: 'Ingress' },
  'networking.k8s.io/v1/NetworkPolicy': { module: 'kubernetes-models/networking.k8s.io/v1', type: 'NetworkPolicy' },
};
const key = (body: Obj) => `${body.apiVersion}/${body.kind}`;
const label = (d: Doc) => `${d.file}#${d.index} ${d.body.kind}/${d.body.metadata?.name}`;
const ofKind = (kind: string) => docs.filter((d) => d.body.kind === kind).map((d) => d.body);
const named = (kind: string, name: string) => {
  const found = ofKind(kind).find((b) => b.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const workloads = () => [...ofKind('Deployment'), ...ofKind('StatefulSet')];
const containerOf = (name: string) =>
  named(
    workloads().some((w) => w.kind === 'StatefulSet' && w.metadata.name === name) ? 'StatefulSet' : 'Deployment',
    name,
  ).spec.template.spec.containers[0] as Obj;
const envOf = (name: string): Map<string, Obj> => new Map((containerOf(name).env ?? []).map((e: Obj) => [e.name, e]));
const envValue = (name: string, variable: string): string => {
  const value = envOf(name).get(variable)?.value;
  assert.equal(typeof value, 'string', `${name} sets ${variable} as a literal`);
  return value as string;
};
const matches = (selector: Obj, labels: Obj = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes', () => {
  test('every file is listed in kustomization.yaml, and every document names apiVersion, kind and metadata.name', () => {
    assert.deepEqual([...kustomization.resources].sort(), files);
    assert.ok(docs.length > 20);
    for (const d of docs) {
      assert.ok(d.body.apiVersion && d.body.kind && d.body.metadata?.name, `${d.file}#${d.index}`);
      assert.ok(MODELS[key(d.body)], `${label(d)}: no schema wired for ${key(d.body)}`);
    }
  });

  test('every document validates against the Kubernetes OpenAPI schema (kubernetes-models, ajv)', async () => {
    for (const d of docs) {
      const model = MODELS[key(d.body)]!;
      const exports = (await import(model.module)) as Record<string, new (data: Obj) => { validate(): void }>;
      assert.doesNotThrow(() => new exports[model.type]!(d.body).validate(), label(d));
    }
    // The validator is live: a wrong type is refused.
    const { Service } = await import('kubernetes-models/v1');
    const wrong: Obj = { metadata: { name: 'x' }, spec: { ports: [{ port: 'http' }] } };
    assert.throws(() => new Service(wrong).validate(), /must be integer/);
  });

  test('no document has a field the schema does not know (TypeScript excess-property check)', () => {
    const source = (bodies: Obj[]) =>
      bodies
        .map((body, i) => {
          const model = MODELS[key(body)]!;
          return `const d${i}: import('${model.module}').I${model.type} = ${JSON.stringify(body, null, 1)};\nvoid d${i};`;
        })
        .join('\n');
    const check = (text: string) => {
      const fileName = join(here, '__manifests_check__.ts');
      const options: ts.CompilerOptions = {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        types: [],
      };
      const host = ts.createCompilerHost(options);
      const { getSourceFile, fileExists, readFile } = host;
      host.getSourceFile = (name, language, ...rest) =>
        name === fileName
          ? ts.createSourceFile(name, text, language)
          : getSourceFile.call(host, name, language, ...rest);
      host.fileExists = (name) => name === fileName || fileExists.call(host, name);
      host.readFile = (name) => (name === fileName ? text : readFile.call(host, name));
      const program = ts.createProgram([fileName], options, host);
      return ts
        .getPreEmitDiagnostics(program)
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    };
    assert.deepEqual(check(source(docs.map((d) => d.body))), []);
    // The check is live: a misspelt field is refused.
    const typo = structuredClone(named('Deployment', 'mcp-server'));
    typo.spec.replica = typo.spec.replicas;
    assert.match(check(source([typo])).join('\n'), /"replica"' does not exist in type 'IDeploymentSpec'/);
  });

  test('kustomize renders the folder, when kubectl is on PATH', (t) => {
    const result = spawnSync('kubectl', ['kustomize', here], { encoding: 'utf8' });
    if (result.error) return t.skip('kubectl not found');
    assert.equal(result.status, 0, result.stderr);
    const rendered = parseAllDocuments(result.stdout).map((doc) => doc.toJS() as Obj);
    assert.equal(rendered.length, docs.length);
    for (const body of rendered)
      if (body.kind !== 'Namespace') assert.equal(body.metadata.namespace, kustomization.namespace, body.metadata.name);
  });

  test('containers: pinned images, requests and limits, probes, restricted securityContext', () => {
    const tagged = new Map((kustomization.images as Obj[]).map((image) => [image.name, image.newTag]));
    const readOnlyRootExempt = new Set(['keycloak']); // writes below /opt/keycloak/data; keycloak.yaml says so
    for (const w of workloads()) {
      const pod = w.spec.template.spec;
      assert.equal(pod.automountServiceAccountToken, false, w.metadata.name);
      assert.equal(pod.securityContext?.runAsNonRoot, true, w.metadata.name);
      assert.equal(typeof pod.securityContext?.runAsUser, 'number', `${w.metadata.name}: numeric user`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', w.metadata.name);
      for (const c of pod.containers as Obj[]) {
        const where = `${w.metadata.name}/${c.name}`;
        const [, image, tag] = /^(.+?)(?::([^:/]+))?$/.exec(c.image)!;
        assert.ok(tag && tag !== 'latest', `${where}: image tag pinned`);
        if (tagged.has(image)) assert.equal(tagged.get(image), tag, `${where}: kustomization images newTag`);
        for (const kind of ['requests', 'limits'])
          for (const resource of ['cpu', 'memory'])
            assert.ok(c.resources?.[kind]?.[resource], `${where} ${kind}.${resource}`);
        assert.ok(c.readinessProbe && c.livenessProbe, `${where}: readiness and liveness probes`);
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, where);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], where);
        assert.equal(
          sc.readOnlyRootFilesystem,
          !readOnlyRootExempt.has(w.metadata.name),
          `${where} readOnlyRootFilesystem`,
        );
        const portNames = new Set((c.ports ?? []).map((p: Obj) => p.name));
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) {
          const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
          if (typeof port === 'string') assert.ok(portNames.has(port), `${where}: probe port ${port}`);
        }
      }
    }
    assert.ok(containerOf('keycloak').image.endsWith(`:${pins.keycloak}`), `Keycloak image tag is ${pins.keycloak}`);
    assert.ok(tagged.get('registry.example.org/mcp-sandbox/keycloak-shared') === pins.keycloak);
  });

  test('Services, PodDisruptionBudgets and Ingress backends select what exists', () => {
    const pods = workloads().map((w) => ({
      name: w.metadata.name,
      labels: w.spec.template.metadata.labels,
      spec: w.spec.template.spec,
    }));
    for (const w of workloads())
      assert.ok(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), w.metadata.name);
    for (const service of ofKind('Service')) {
      const selected = pods.filter((p) => matches(service.spec.selector, p.labels));
      assert.ok(selected.length > 0, `Service ${service.metadata.name} selects no pod`);
      const portNames = new Set(
        selected.flatMap((p) => p.spec.containers.flatMap((c: Obj) => (c.ports ?? []).map((port: Obj) => port.name))),
      );
      for (const port of service.spec.ports)
        assert.ok(portNames.has(port.targetPort), `${service.metadata.name}: targetPort ${port.targetPort}`);
    }
    for (const set of ofKind('StatefulSet'))
      assert.equal(named('Service', set.spec.serviceName).spec.clusterIP, 'None', set.metadata.name);
    for (const pdb of ofKind('PodDisruptionBudget'))
      assert.ok(
        pods.some((p) => matches(pdb.spec.selector.matchLabels, p.labels)),
        pdb.metadata.name,
      );
    assert.deepEqual(
      ofKind('PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
      ['keycloak', 'mcp-server'],
    );
    for (const ingress of ofKind('Ingress')) {
      const tlsHosts = new Set(ingress.spec.tls.flatMap((t: Obj) => t.hosts));
      for (const rule of ingress.spec.rules) {
        assert.ok(tlsHosts.has(rule.host), `${rule.host} has TLS`);
        for (const path of rule.http.paths) {
          const service = named('Service', path.backend.service.name);
          assert.ok(
            service.spec.ports.some((p: Obj) => p.name === path.backend.service.port.name),
            path.path,
          );
          assert.doesNotMatch(
            path.path,
            /^\/(admin|metrics|health)/,
            'the admin console, metrics and health stay private',
          );
        }
      }
    }
    const routes = ofKind('Ingress').flatMap((i) =>
      i.spec.rules.flatMap((r: Obj) => r.http.paths.map((p: Obj) => `${r.host}${p.path} ${p.backend.service.name}`)),
    );
    assert.deepEqual(routes.sort(), [
      'approve.sandbox.example.org/ approval-device',
      'sandbox.example.org/.well-known mcp-server',
      'sandbox.example.org/clients client-docs',
      'sandbox.example.org/explorer mcp-server',
      'sandbox.example.org/mcp mcp-server',
      'sandbox.example.org/realms keycloak',
      'sandbox.example.org/resources keycloak',
    ]);
  });

  test('NetworkPolicies: only Keycloak reaches PostgreSQL, only the MCP server reaches the stock API and Redis', () => {
    assert.deepEqual(named('NetworkPolicy', 'default-deny-ingress').spec, {
      podSelector: {},
      policyTypes: ['Ingress'],
    });
    const sources = (target: string) =>
      ofKind('NetworkPolicy')
        .filter((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === target)
        .flatMap((p) =>
          p.spec.ingress.flatMap((rule: Obj) =>
            rule.from.map(
              (peer: Obj) =>
                peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] ??
                `ns:${peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}`,
            ),
          ),
        );
    assert.deepEqual(sources('postgres'), ['keycloak']);
    assert.deepEqual(sources('stock-api'), ['mcp-server']);
    assert.deepEqual(sources('redis'), ['mcp-server']);
    for (const w of workloads()) assert.ok(sources(w.metadata.name).length > 0, `${w.metadata.name} has an allow rule`);
  });

  test('env names are the services own (.env.example), secrets come from Secrets', () => {
    const envExample = (dir: string) =>
      new Set(
        [...readFileSync(join(root, dir, '.env.example'), 'utf8').matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map(
          (m) => m[1],
        ),
      );
    const services: Record<string, string> = {
      'mcp-server': 'server',
      'stock-api': 'mock-stock-api',
      'approval-device': 'approval-device',
      'client-docs': 'client-docs',
    };
    for (const [workload, dir] of Object.entries(services)) {
      const known = envExample(dir);
      for (const name of envOf(workload).keys())
        assert.ok(known.has(name), `${workload}: ${name} is not in ${dir}/.env.example`);
    }
    const placeholders = new Set(
      [...readFileSync(join(root, 'keycloak/realm/sandbox-realm.json'), 'utf8').matchAll(/\$\{([A-Z_]+)[:}]/g)].map(
        (m) => m[1],
      ),
    );
    for (const name of envOf('keycloak').keys())
      assert.ok(
        /^(KC_|JAVA_OPTS)/.test(name) || placeholders.has(name),
        `keycloak: ${name} is neither a Keycloak option nor a realm placeholder`,
      );
    for (const name of [
      'MCP_RESOURCE_URL',
      'MCP_EXPLORER_URL',
      'MCP_CIMD_DOCUMENT_PREFIX',
      'MCP_CIMD_EXTRA_HOST',
      'APPROVAL_DEVICE_URL',
      'MCP_SERVER_CLIENT_SECRET',
      'KC_DCR_TRUSTED_HOST',
    ])
      assert.ok(envOf('keycloak').has(name), `keycloak sets the realm placeholder ${name}`);
    const secretRefs = new Map<string, string>([
      ['mcp-server/CLIENT_SECRET', 'mcp-server-client-secret'],
      ['mcp-server/STATE_KEY', 'state-key'],
      ['keycloak/MCP_SERVER_CLIENT_SECRET', 'mcp-server-client-secret'],
      ['keycloak/KC_DB_PASSWORD', 'postgres-password'],
      ['keycloak/KC_BOOTSTRAP_ADMIN_PASSWORD', 'keycloak-admin-password'],
      ['postgres/POSTGRES_PASSWORD', 'postgres-password'],
    ]);
    const readme = readFileSync(join(here, 'README.md'), 'utf8');
    for (const [where, secretKey] of secretRefs) {
      const [workload, variable] = where.split('/') as [string, string];
      assert.deepEqual(
        envOf(workload).get(variable)?.valueFrom?.secretKeyRef,
        { name: 'mcp-sandbox-secrets', key: secretKey },
        where,
      );
      assert.ok(readme.includes(`--from-literal=${secretKey}=`), `README.md creates ${secretKey}`);
    }
    for (const w of workloads())
      for (const e of w.spec.template.spec.containers.flatMap((c: Obj) => c.env ?? []))
        if (/SECRET|PASSWORD|STATE_KEY/.test(e.name))
          assert.ok(e.valueFrom?.secretKeyRef, `${w.metadata.name}: ${e.name} from a Secret`);
    for (const name of ['mcp-sandbox-secrets', 'sandbox-tls', 'sandbox-ca', 'client-docs-tls', 'sandbox-realm'])
      assert.ok(readme.includes(name), `README.md says how to create ${name}`);
  });

  test('Keycloak: production mode, clustered on PostgreSQL, behind a proxy, health on the management port', () => {
    const keycloak = named('StatefulSet', 'keycloak');
    const c = containerOf('keycloak');
    assert.equal(keycloak.spec.replicas, 2);
    assert.deepEqual(c.args.slice(0, 3), ['start', '--optimized', '--import-realm']);
    for (const arg of [
      '--http-enabled=true',
      '--proxy-headers=xforwarded',
      '--cache=ispn',
      '--cache-stack=jdbc-ping',
      '--hostname=https://sandbox.example.org',
    ])
      assert.ok(c.args.includes(arg), arg);
    assert.ok(!c.args.includes('start-dev'));
    assert.equal(c.readinessProbe.httpGet.path, '/health/ready');
    assert.equal(c.livenessProbe.httpGet.path, '/health/live');
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe])
      assert.equal(probe.httpGet.port, 'management');
    assert.equal(c.ports.find((p: Obj) => p.name === 'management').containerPort, 9000);
    assert.equal(envValue('keycloak', 'KC_DB_URL_HOST'), 'postgres');
    const realm = keycloak.spec.template.spec.volumes.find((v: Obj) => v.configMap);
    assert.equal(realm.configMap.name, 'sandbox-realm');
    assert.equal(c.volumeMounts.find((m: Obj) => m.name === realm.name).mountPath, '/opt/keycloak/data/import');
  });

  test('MCP server: 2+ replicas, probes, grace above SHUTDOWN_TIMEOUT_S, one public origin everywhere', () => {
    const server = named('Deployment', 'mcp-server');
    const c = containerOf('mcp-server');
    assert.ok(server.spec.replicas >= 2);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.ok(
      server.spec.template.spec.terminationGracePeriodSeconds >
        Number(envValue('mcp-server', 'SHUTDOWN_TIMEOUT_S')) + (c.lifecycle?.preStop?.sleep?.seconds ?? 0),
    );
    // Probes name a Host the DNS-rebinding guard accepts.
    for (const workload of ['mcp-server', 'approval-device']) {
      const allowed = envValue(workload, 'ALLOWED_HOSTS').split(',');
      for (const probe of [containerOf(workload).readinessProbe, containerOf(workload).livenessProbe])
        assert.ok(allowed.includes(probe.httpGet.httpHeaders.find((h: Obj) => h.name === 'Host').value), workload);
    }
    const resource = envValue('mcp-server', 'MCP_RESOURCE_URL');
    const host = new URL(resource).host;
    assert.equal(envValue('mcp-server', 'CLIENT_ID'), resource);
    assert.equal(envValue('keycloak', 'MCP_RESOURCE_URL'), resource);
    assert.equal(envValue('stock-api', 'EXCHANGE_CLIENT_ID'), resource);
    assert.equal(envValue('approval-device', 'CIBA_CLIENT_IDS'), resource);
    const issuer = `https://${host}/realms/sandbox`;
    for (const workload of ['mcp-server', 'stock-api', 'approval-device'])
      assert.equal(envValue(workload, 'ISSUER_URL'), issuer, workload);
    assert.equal(envValue('keycloak', 'MCP_EXPLORER_URL'), `https://${host}/explorer`);
    assert.equal(envValue('keycloak', 'MCP_CIMD_DOCUMENT_PREFIX'), `${envValue('client-docs', 'PUBLIC_URL')}/clients/`);
    assert.equal(envValue('keycloak', 'MCP_CIMD_EXTRA_HOST'), host);
    assert.equal(envValue('keycloak', 'APPROVAL_DEVICE_URL'), envValue('approval-device', 'PUBLIC_URL'));
    assert.equal(envValue('mcp-server', 'APPROVAL_DEVICE_URL'), envValue('approval-device', 'PUBLIC_URL'));
    // Every in-cluster URL names a Service that exists, on a port it has.
    for (const [workload, variable] of [
      ['mcp-server', 'KEYCLOAK_INTERNAL_URL'],
      ['mcp-server', 'STOCK_API_URL'],
      ['mcp-server', 'REDIS_URL'],
      ['stock-api', 'JWKS_URL'],
      ['approval-device', 'KEYCLOAK_INTERNAL_URL'],
      ['approval-device', 'KEYCLOAK_CALLBACK_URL'],
    ] as const) {
      const url = new URL(envValue(workload, variable));
      assert.ok(
        named('Service', url.hostname).spec.ports.some((p: Obj) => String(p.port) === url.port),
        `${workload} ${variable}`,
      );
    }
  });
});
