// The renderer our manifest tests stand on: it must do what kustomize does for the features we use, and refuse
// what it does not implement.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Container,
  jsonPatch,
  type K8sSpec,
  KustomizeError,
  render,
  strategicMerge,
} from '../src/kustomize.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kustomize-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: example/web
          env: [{ name: A, value: "1" }, { name: B, value: "2" }]
        - name: sidecar
          image: example/sidecar:1.0
---
apiVersion: v1
kind: Namespace
metadata: { name: cluster-wide }
`;

describe('rendering a base with an overlay', () => {
  const root = tree({
    'base/kustomization.yaml': 'resources: [web.yaml]\n',
    'base/web.yaml': DEPLOYMENT,
    'overlay/kustomization.yaml': `namespace: prod
resources: [../base]
images: [{ name: example/web, newName: registry/web, newTag: "2.1" }]
replicas: [{ name: web, count: 5 }]
labels: [{ pairs: { team: sip }, includeTemplates: true }]
patches:
  - path: env.yaml
  - target: { kind: Deployment, name: web }
    patch: |-
      - { op: add, path: /spec/template/spec/containers/0/args, value: [--fast] }
`,
    'overlay/env.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - name: web
          env: [{ name: B, value: "3" }, { name: C, value: "4" }]
`,
  });
  const [deployment, namespace] = render(join(root, 'overlay'));
  const spec = deployment?.spec as Required<K8sSpec> & { template: { spec: { containers: Container[] } } };
  const [web, sidecar] = spec.template.spec.containers;

  it('merges containers and env by name, keeping what the patch does not mention', () => {
    expect(web?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
    expect(sidecar?.image).toBe('example/sidecar:1.0');
  });

  it('applies JSON 6902 patches, images, replicas, namespace and labels', () => {
    expect(web?.args).toEqual(['--fast']);
    expect(web?.image).toBe('registry/web:2.1');
    expect(spec.replicas).toBe(5);
    expect(deployment?.metadata.namespace).toBe('prod');
    expect(deployment?.metadata.labels).toEqual({ team: 'sip' });
    expect(spec.template.metadata?.labels).toEqual({ app: 'web', team: 'sip' });
    // Selectors are immutable in a cluster; labels leave them alone unless asked.
    expect(spec.selector.matchLabels).toEqual({ app: 'web' });
  });

  it('leaves cluster-scoped objects without a namespace', () => {
    expect(namespace?.kind).toBe('Namespace');
    expect(namespace?.metadata.namespace).toBeUndefined();
  });
});

describe('a kustomization the renderer cannot honour', () => {
  it('is refused when it uses a field the renderer does not implement', () => {
    const root = tree({ 'kustomization.yaml': 'resources: []\nnamePrefix: x-\n' });
    expect(() => render(root)).toThrow(/'namePrefix' is not supported/);
  });

  it('is refused when a patch matches nothing', () => {
    const root = tree({
      'kustomization.yaml': `resources: [web.yaml]
patches:
  - target: { kind: Deployment, name: api }
    patch: '[{ "op": "replace", "path": "/spec/replicas", "value": 1 }]'
`,
      'web.yaml': DEPLOYMENT,
    });
    expect(() => render(root)).toThrow(/matches nothing/);
  });

  it('is refused when a resource is missing or defined twice', () => {
    expect(() => render(tree({ 'kustomization.yaml': 'resources: [gone.yaml]\n' }))).toThrow(
      /does not exist/,
    );
    const twice = tree({
      'kustomization.yaml': 'resources: [a.yaml, a2.yaml]\n',
      'a.yaml': DEPLOYMENT,
      'a2.yaml': DEPLOYMENT,
    });
    expect(() => render(twice)).toThrow(KustomizeError);
  });
});

describe('patch primitives', () => {
  it('deletes a key with null in a strategic merge, and replaces lists of plain values', () => {
    expect(strategicMerge({ a: 1, b: 2, c: [1, 2] }, { a: null, c: [3] })).toEqual({ b: 2, c: [3] });
  });

  it('refuses a JSON patch that replaces or removes what is not there', () => {
    expect(() => jsonPatch({ a: {} }, [{ op: 'replace', path: '/a/b', value: 1 }])).toThrow(/no such key/);
    expect(() => jsonPatch({ a: [] }, [{ op: 'remove', path: '/a/0' }])).toThrow(/no such element/);
    expect(jsonPatch({ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }])).toEqual({ a: [1, 2] });
  });
});
