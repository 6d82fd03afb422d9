// Every overlay renders, every object is valid against the Kubernetes schemas (offline, kubernetes-models), and our
// own policy holds: probes, limits, non-root, drain time, a Service per Deployment, routes that reach a Service.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Container, containersOf, type K8sObject, podSpec, render } from '../src/kustomize.ts';
import { EXTERNAL_SECRETS, policyViolations } from '../src/policy.ts';
import { validateObject } from '../src/schemas.ts';

const DEPLOY = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['invitation', 'consent', 'notification', 'plan-store', 'statistics'];
const OVERLAYS = ['base', 'overlays/dev', 'overlays/production'];

const rendered = new Map(OVERLAYS.map((o) => [o, render(join(DEPLOY, o))]));
const get = (overlay: string) => rendered.get(overlay) as K8sObject[];
function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return found;
}

describe.each(OVERLAYS)('the %s manifests', (overlay) => {
  it('render to objects that all validate against the Kubernetes schemas', async () => {
    const objects = get(overlay);
    expect(objects.length).toBeGreaterThan(30);
    const problems = (await Promise.all(objects.map(validateObject))).flat();
    expect(problems).toEqual([]);
  });

  it('keep our policy: probes, limits, non-root, drain time, selectors, routes', () => {
    expect(policyViolations(get(overlay))).toEqual([]);
  });

  it('give every service a Deployment, Service, ServiceAccount, PDB, HPA and NetworkPolicy', () => {
    const objects = get(overlay);
    for (const name of SERVICES) {
      for (const kind of [
        'Deployment',
        'Service',
        'ServiceAccount',
        'PodDisruptionBudget',
        'HorizontalPodAutoscaler',
        'NetworkPolicy',
      ]) {
        expect(find(objects, kind, name), `${kind}/${name}`).toBeDefined();
      }
    }
  });

  it('migrate every service in a Job that runs each service image with `node dist/main.js migrate`', () => {
    const objects = get(overlay);
    const job = find(objects, 'Job', 'samsyn-migrate');
    const migrators = containersOf(job);
    expect(migrators.map((c) => c.name)).toEqual(SERVICES.map((s) => `migrate-${s}`));
    for (const s of SERVICES) {
      const container = migrators.find((c) => c.name === `migrate-${s}`);
      const deployment = find(objects, 'Deployment', s);
      expect(container?.image).toBe(containersOf(deployment)[0]?.image);
      expect(container?.command).toEqual(['node', 'dist/main.js', 'migrate']);
      expect(container?.workingDir).toBe(`/app/services/${s}`);
    }
  });
});

describe('the policy checks', () => {
  it('catch a container without limits or probes, running as root, and a Service that selects nothing', () => {
    const objects = structuredClone(get('base'));
    const deployment = find(objects, 'Deployment', 'consent');
    const c = containersOf(deployment)[0] as Container;
    c.resources = { requests: c.resources?.requests ?? {} };
    delete c.readinessProbe;
    c.securityContext = { ...c.securityContext, runAsUser: 0 };
    const service = find(objects, 'Service', 'statistics');
    service.spec = { ...service.spec, selector: { 'app.kubernetes.io/name': 'stats' } };
    const pod = podSpec(deployment);
    if (pod) pod.terminationGracePeriodSeconds = 10;
    const problems = policyViolations(objects);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Deployment/consent container consent: no cpu/memory limits',
        'Deployment/consent container consent: readinessProbe does not GET /readyz',
        'Deployment/consent container consent: may run as root',
        'Service/statistics: selects no Deployment',
        'Deployment/consent: terminationGracePeriodSeconds 10 does not match drain time 30',
      ]),
    );
  });

  it('catch an object the schema rejects', async () => {
    const deployment = structuredClone(find(get('base'), 'Deployment', 'invitation'));
    Object.assign(deployment.spec ?? {}, { replicas: 'two' });
    delete deployment.spec?.selector;
    const problems = await validateObject(deployment);
    expect(problems.join('\n')).toMatch(/replicas/);
    expect(problems.join('\n')).toMatch(/selector/);
  });
});

describe('the production overlay', () => {
  const objects = get('overlays/production');
  const config = find(objects, 'ConfigMap', 'samsyn-config').data as Record<string, string>;

  it('runs three replicas of each service with R3 streams and real token keys', () => {
    for (const s of SERVICES) {
      expect(find(objects, 'Deployment', s).spec?.replicas).toBe(3);
      expect(find(objects, 'HorizontalPodAutoscaler', s).spec?.minReplicas).toBeGreaterThanOrEqual(3);
    }
    expect(config.NATS_STREAM_REPLICAS).toBe('3');
    expect(config.NODE_ENV).toBe('production');
    expect(config.AUTH_DEV_KEY).toBeUndefined();
    expect(config.AUTH_JWKS_URL).toMatch(/^https:\/\//);
  });

  it('pins every image to a release tag in the production registry', () => {
    for (const o of objects)
      for (const c of containersOf(o))
        expect(c.image).toMatch(/^registry\.example\.se\/samsyn\/[a-z-]+:\d+\.\d+\.\d+$/);
  });

  it('puts everything in the samsyn namespace', () => {
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['samsyn']));
  });
});

describe('the dev overlay', () => {
  const objects = get('overlays/dev');
  const config = find(objects, 'ConfigMap', 'samsyn-config').data as Record<string, string>;

  it('runs one replica of each service against one-replica streams, in its own namespace', () => {
    for (const s of SERVICES) expect(find(objects, 'Deployment', s).spec?.replicas).toBe(1);
    expect(config.NATS_STREAM_REPLICAS).toBe('1');
    expect(config.AUTH_JWKS_URL).toBeUndefined();
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['samsyn-dev']));
  });
});

describe('the runbook', () => {
  it('says where each Secret the manifests read from comes from', () => {
    const runbook = readFileSync(join(DEPLOY, '..', 'docs', 'operations.md'), 'utf8');
    for (const secret of EXTERNAL_SECRETS) expect(runbook, secret).toContain(`\`${secret}\``);
  });
});
