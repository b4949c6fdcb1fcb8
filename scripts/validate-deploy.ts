// `npm run validate:deploy`: checks the deployment files against the official schemas, strictly
// (an unknown or misspelt field is an error, as `kubectl apply --validate=strict` would say):
//   - deploy/k8s/*.yaml against Kubernetes' OpenAPI document (k8s.io/kubernetes, api/openapi-spec);
//   - docker-compose.yml against the Compose Specification schema (compose-go, schema/compose-spec.json);
//   - deploy/prometheus rules with promtool (check and unit tests) when it is installed.
// Both schemas come from the Go module proxy (`go mod download`), pinned, cached by Go.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S_MODULE = 'k8s.io/kubernetes@v1.31.4';
const COMPOSE_MODULE = 'github.com/compose-spec/compose-go/v2@v2.16.2';

function goModuleDir(module: string): string {
  const go = ['/usr/local/go/bin/go', 'go'].find((g) => spawnSync(g, ['version']).status === 0);
  if (!go) throw new Error('Go is needed to fetch the schemas (go mod download); install it, or see README');
  const out = execFileSync(go, ['mod', 'download', '-json', module], { cwd: '/tmp', encoding: 'utf8', timeout: 600_000 });
  return (JSON.parse(out) as { Dir: string }).Dir;
}

const problems: string[] = [];
const describe = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);

// --- Kubernetes -----------------------------------------------------------------------------

type Schema = Record<string, unknown>;

/** Swagger 2.0 definitions as JSON Schema: strict objects, and the two types YAML writes either way. */
function kubernetesSchemas(): { definitions: Record<string, Schema>; byKind: Map<string, string> } {
  const swagger = JSON.parse(readFileSync(path.join(goModuleDir(K8S_MODULE), 'api/openapi-spec/swagger.json'), 'utf8')) as {
    definitions: Record<string, Schema & { 'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[] }>;
  };
  const byKind = new Map<string, string>();
  const strict = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strict);
    if (!node || typeof node !== 'object') return node;
    const out: Schema = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'description' || k.startsWith('x-')) continue;
      out[k] = strict(v);
    }
    if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
    if (out.format === 'int-or-string') return { type: ['string', 'integer'] };
    return out;
  };
  const definitions: Record<string, Schema> = {};
  for (const [name, def] of Object.entries(swagger.definitions)) {
    definitions[name] = strict(def) as Schema;
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      byKind.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
  }
  // Quantities are strings in the schema but YAML writes `cpu: 1` as a number.
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { type: ['string', 'number'] };
  return { definitions, byKind };
}

function validateKubernetes(): number {
  const dir = path.join(ROOT, 'deploy/k8s');
  const { definitions, byKind } = kubernetesSchemas();
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'k8s', definitions });
  let count = 0;
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length) {
        problems.push(`${file}: ${doc.errors[0]!.message}`);
        continue;
      }
      const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
      if (!obj) continue;
      // kustomize's own file: checked by its own shape (every resource listed exists).
      if (obj.kind === 'Kustomization') {
        for (const r of (obj as { resources?: string[] }).resources ?? []) {
          if (!readdirSync(dir).includes(r)) problems.push(`${file}: resource ${r} does not exist`);
        }
        continue;
      }
      const name = byKind.get(`${obj.apiVersion}/${obj.kind}`);
      const where = `${file}: ${obj.kind}/${obj.metadata?.name ?? '?'}`;
      if (!name) {
        problems.push(`${where}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
        continue;
      }
      const validate = ajv.getSchema(`k8s#/definitions/${name}`)!;
      if (!validate(obj)) problems.push(...describe(validate.errors).map((e) => `${where}: ${e}`));
      count++;
    }
  }
  return count;
}

// --- Compose --------------------------------------------------------------------------------

function validateCompose(): void {
  const schema = JSON.parse(readFileSync(path.join(goModuleDir(COMPOSE_MODULE), 'schema/compose-spec.json'), 'utf8')) as Schema;
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  const doc = parseAllDocuments(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true })[0]!;
  if (doc.errors.length) {
    problems.push(`docker-compose.yml: ${doc.errors[0]!.message}`);
    return;
  }
  const compose = doc.toJS({ maxAliasCount: -1 }) as { services?: Record<string, { depends_on?: Record<string, unknown> | string[] }> };
  if (!validate(compose)) problems.push(...describe(validate.errors).map((e) => `docker-compose.yml: ${e}`));
  // What the schema cannot say: every dependency names a service.
  const services = Object.keys(compose.services ?? {});
  for (const [name, s] of Object.entries(compose.services ?? {})) {
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const d of deps) if (!services.includes(d)) problems.push(`docker-compose.yml: ${name} depends on unknown service ${d}`);
  }
}

// --- Prometheus -----------------------------------------------------------------------------

function validatePrometheus(): void {
  if (spawnSync('promtool', ['--version']).status !== 0) {
    problems.push('promtool is not installed (Debian: apt-get install prometheus): alert rules not checked');
    return;
  }
  const dir = path.join(ROOT, 'deploy/prometheus');
  for (const args of [['check', 'rules', 'alerts.yml'], ['test', 'rules', 'alerts.test.yml'], ['check', 'config', 'prometheus.yml']]) {
    const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) problems.push(`promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  }
}

// --- Dashboards and alerts name real metrics --------------------------------------------------

async function validateMetricNames(): Promise<void> {
  const { registry, registerBacklogGauges } = await import('../infra/metrics.ts');
  // Registers the scrape-time gauges; nothing is queried unless they are collected.
  registerBacklogGauges({} as never);
  const dashboards = path.join(ROOT, 'deploy/grafana/dashboards');
  const sources: [string, string][] = [
    ['deploy/prometheus/alerts.yml', readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')],
    ...readdirSync(dashboards).map((f): [string, string] => [`deploy/grafana/dashboards/${f}`, readFileSync(path.join(dashboards, f), 'utf8')]),
  ];
  for (const [file, text] of sources) {
    if (file.endsWith('.json')) {
      const dash = JSON.parse(text) as { panels: { title: string; type: string; targets?: { expr?: string; datasource?: { uid?: string } }[] }[] };
      for (const p of dash.panels.filter((x) => x.type !== 'row')) {
        if (!p.targets?.length || p.targets.some((t) => !t.expr || t.datasource?.uid !== 'prometheus')) {
          problems.push(`${file}: panel "${p.title}" needs targets with an expr on the provisioned Prometheus datasource`);
        }
      }
    }
    for (const name of new Set(text.match(/\bvoucher_[a-z_]+/g) ?? [])) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      if (!registry.getSingleMetric(base)) problems.push(`${file}: ${name} is not a metric infra/metrics.ts defines`);
    }
  }
}

const resources = validateKubernetes();
await validateMetricNames();
validateCompose();
validatePrometheus();
if (problems.length) {
  console.error(`deployment files: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`deployment files valid: ${resources} Kubernetes resources (${K8S_MODULE}), docker-compose.yml (${COMPOSE_MODULE}), Prometheus rules and config, dashboard and alert metric names`);
