// A small kustomize, enough for our base and overlays, so the manifests render and are checked where no kubectl is:
// resources (files and kustomization folders), namespace, labels, commonAnnotations, images, replicas, and patches
// (strategic merge by `name` for lists of objects, or JSON 6902). Anything else in a kustomization is an error,
// never silently ignored: a field we do not implement would make the rendered output lie.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export interface Probe {
  httpGet?: { path?: string; port?: string | number };
}

/** The container fields our checks read (the schema check covers the rest). */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    capabilities?: { drop?: string[] };
  };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  topologySpreadConstraints?: object[];
}

type Labels = Record<string, string>;

/** The spec fields our checks read, across the kinds we ship. */
export interface K8sSpec {
  replicas?: number;
  selector?: Labels & { matchLabels?: Labels };
  template?: { metadata?: { labels?: Labels }; spec?: PodSpec };
  jobTemplate?: { spec?: { template?: { metadata?: { labels?: Labels }; spec?: PodSpec } } };
  ports?: { name?: string; port: number; targetPort?: string | number }[];
  podSelector?: { matchLabels?: Labels };
  egress?: { ports?: { port: number | string }[] }[];
  scaleTargetRef?: { name: string };
  minReplicas?: number;
  maxReplicas?: number;
  rules?: {
    host?: string;
    http?: {
      paths?: {
        path: string;
        backend: { service: { name: string; port: { name?: string; number?: number } } };
      }[];
    };
  }[];
  [key: string]: unknown;
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Labels;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: K8sSpec;
  data?: Record<string, string>;
  [k: string]: unknown;
};

interface PatchTarget {
  kind?: string;
  name?: string;
  group?: string;
  version?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  commonAnnotations?: Record<string, string>;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path?: string; patch?: string; target?: PatchTarget }[];
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'commonAnnotations',
  'images',
  'replicas',
  'patches',
]);

/** Kinds that have no namespace (kustomize leaves them alone when setting one). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
]);

export class KustomizeError extends Error {}

/** Renders the kustomization in `dir` (a folder holding kustomization.yaml) to its list of objects. */
export function render(dir: string): K8sObject[] {
  const root = resolve(dir);
  const file = join(root, 'kustomization.yaml');
  if (!existsSync(file)) throw new KustomizeError(`${root}: no kustomization.yaml`);
  const k = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Kustomization;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key))
      throw new KustomizeError(`${file}: field '${key}' is not supported by this renderer`);
  }
  let objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(root, entry);
    if (!existsSync(path)) throw new KustomizeError(`${file}: resource ${entry} does not exist`);
    objects.push(...(statSync(path).isDirectory() ? render(path) : readObjects(path)));
  }
  for (const p of k.patches ?? []) objects = applyPatch(objects, p, root, file);
  for (const r of k.replicas ?? []) {
    const hits = objects.filter(
      (o) => o.metadata.name === r.name && ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind),
    );
    if (hits.length === 0) throw new KustomizeError(`${file}: replicas for ${r.name} match nothing`);
    for (const o of hits) if (o.spec) o.spec.replicas = r.count;
  }
  for (const image of k.images ?? []) setImage(objects, image);
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const l of k.labels ?? []) for (const o of objects) addLabels(o, l.pairs, l);
  if (k.commonAnnotations) {
    for (const o of objects) {
      o.metadata.annotations = { ...o.metadata.annotations, ...k.commonAnnotations };
    }
  }
  assertUnique(objects, file);
  return objects;
}

/** Every YAML document in a file, as objects (empty documents skipped). */
export function readObjects(path: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const out: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KustomizeError(`${path}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (!value) continue;
    if (!value.apiVersion || !value.kind || !value.metadata?.name)
      throw new KustomizeError(`${path}: a document lacks apiVersion, kind or metadata.name`);
    out.push(value);
  }
  return out;
}

function assertUnique(objects: K8sObject[], file: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) throw new KustomizeError(`${file}: ${id} is defined twice`);
    seen.add(id);
  }
}

function matches(o: K8sObject, t: PatchTarget): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return (
    (!t.kind || t.kind === o.kind) &&
    (!t.name || new RegExp(`^(?:${t.name})$`).test(o.metadata.name)) &&
    (t.group === undefined || t.group === group) &&
    (!t.version || t.version === version)
  );
}

function applyPatch(
  objects: K8sObject[],
  p: { path?: string; patch?: string; target?: PatchTarget },
  root: string,
  file: string,
): K8sObject[] {
  const text = p.path ? readFileSync(resolve(root, p.path), 'utf8') : p.patch;
  if (!text) throw new KustomizeError(`${file}: a patch has neither path nor patch`);
  const body = parseYaml(text) as unknown;
  if (Array.isArray(body)) {
    // JSON 6902: needs a target.
    if (!p.target) throw new KustomizeError(`${file}: a JSON 6902 patch needs a target`);
    const target = p.target;
    const hits = objects.filter((o) => matches(o, target));
    if (hits.length === 0)
      throw new KustomizeError(`${file}: patch target ${JSON.stringify(target)} matches nothing`);
    return objects.map((o) => (hits.includes(o) ? jsonPatch(o, body as JsonOp[], file) : o));
  }
  const smp = body as K8sObject;
  const target: PatchTarget = p.target ?? { kind: smp.kind, name: smp.metadata?.name };
  const hits = objects.filter((o) => matches(o, target));
  if (hits.length === 0)
    throw new KustomizeError(`${file}: patch target ${JSON.stringify(target)} matches nothing`);
  return objects.map((o) => {
    if (!hits.includes(o)) return o;
    const { metadata, ...rest } = smp;
    const { name: _ignoredName, ...meta } = metadata ?? { name: '' };
    return strategicMerge(o, { ...rest, metadata: meta }) as K8sObject;
  });
}

/** Strategic merge as kustomize does it for built-in kinds: maps merge, lists of named objects merge by name,
 * other lists are replaced, and `null` deletes a key. */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    if (!Array.isArray(base) || !patch.every(isNamed) || !base.every(isNamed)) return structuredClone(patch);
    const out = base.map((b) => structuredClone(b));
    for (const item of patch) {
      const i = out.findIndex((b) => b.name === item.name);
      if (i >= 0) out[i] = strategicMerge(out[i], item) as { name: string };
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (isMap(patch)) {
    const out: Record<string, unknown> = isMap(base) ? { ...base } : {};
    for (const [key, value] of Object.entries(patch)) {
      const merged = strategicMerge(out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  return patch;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNamed(v: unknown): v is { name: string } {
  return isMap(v) && typeof v.name === 'string';
}

export type JsonOp = { op: 'add' | 'replace' | 'remove'; path: string; value?: unknown };

/** RFC 6902 add/replace/remove (what our overlays use). */
export function jsonPatch<T>(doc: T, ops: JsonOp[], where = 'patch'): T {
  const out = structuredClone(doc) as unknown;
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new KustomizeError(`${where}: empty path`);
    let parent = out as Record<string, unknown> | unknown[];
    for (const part of parts) {
      const next = Array.isArray(parent) ? parent[Number(part)] : parent[part];
      if (typeof next !== 'object' || next === null)
        throw new KustomizeError(`${where}: ${op.op} ${op.path}: ${part} does not exist`);
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length)
        throw new KustomizeError(`${where}: ${op.op} ${op.path}: bad index`);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (index >= parent.length)
        throw new KustomizeError(`${where}: ${op.op} ${op.path}: no such element`);
      else if (op.op === 'replace') parent[index] = structuredClone(op.value);
      else parent.splice(index, 1);
    } else {
      if (op.op !== 'add' && !(last in parent))
        throw new KustomizeError(`${where}: ${op.op} ${op.path}: no such key`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = structuredClone(op.value);
    }
  }
  return out as T;
}

/** The pod spec of a workload, if it has one. */
export function podSpec(o: K8sObject): PodSpec | undefined {
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  return o.spec?.template?.spec;
}

/** Init containers, then containers, of a workload (none for other kinds). */
export function containersOf(o: K8sObject): Container[] {
  const pod = podSpec(o);
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}

function setImage(
  objects: K8sObject[],
  image: { name: string; newName?: string; newTag?: string; digest?: string },
) {
  for (const o of objects) {
    for (const c of containersOf(o)) {
      const current = String(c.image ?? '');
      const at = current.indexOf('@');
      const withoutDigest = at >= 0 ? current.slice(0, at) : current;
      const colon = withoutDigest.lastIndexOf(':');
      const name = colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
      if (name !== image.name) continue;
      const tag = colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(colon + 1) : undefined;
      const newName = image.newName ?? name;
      c.image = image.digest
        ? `${newName}@${image.digest}`
        : `${newName}${(image.newTag ?? tag) ? `:${image.newTag ?? tag}` : ''}`;
    }
  }
}

function addLabels(
  o: K8sObject,
  pairs: Record<string, string>,
  options: { includeSelectors?: boolean; includeTemplates?: boolean },
): void {
  o.metadata.labels = { ...o.metadata.labels, ...pairs };
  const template = o.spec?.template;
  if ((options.includeTemplates || options.includeSelectors) && template?.metadata) {
    template.metadata.labels = { ...template.metadata.labels, ...pairs };
  }
  const selector = o.spec?.selector;
  if (options.includeSelectors && selector?.matchLabels) {
    selector.matchLabels = { ...selector.matchLabels, ...pairs };
  }
}
