// The cluster infrastructure under infra/: a 3-node NATS JetStream cluster that can hold R3 streams, a 3-instance
// CloudNativePG cluster with backups, and the wiring the services rely on (Service names, Secret names, ports).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { containersOf, type K8sObject, render } from '../src/kustomize.ts';
import { validateObject } from '../src/schemas.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const infra = render(join(ROOT, 'infra'));
const production = render(join(ROOT, 'deploy/overlays/production'));

function find(objects: K8sObject[], kind: string, name: string): K8sObject & Record<string, unknown> {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
}

describe('infra/', () => {
  it('renders objects that validate against the Kubernetes and Prometheus Operator schemas', async () => {
    const checkable = infra.filter((o) => !o.apiVersion.startsWith('postgresql.cnpg.io/'));
    expect(checkable.length).toBeGreaterThan(5);
    expect((await Promise.all(checkable.map(validateObject))).flat()).toEqual([]);
  });

  it('runs NATS as three JetStream nodes routed to each other, enough for the R3 streams production asks for', () => {
    const sts = find(infra, 'StatefulSet', 'nats');
    expect(sts.spec?.replicas).toBe(3);
    const conf = find(infra, 'ConfigMap', 'nats-config').data?.['nats.conf'] ?? '';
    expect(conf).toMatch(/jetstream\s*\{/);
    const routes = [...conf.matchAll(/nats:\/\/(nats-\d)\.nats-headless:6222/g)].map((m) => m[1]);
    expect(routes).toEqual(['nats-0', 'nats-1', 'nats-2']);
    expect(find(infra, 'Service', 'nats-headless').spec?.clusterIP).toBe('None');
    expect(find(infra, 'PodDisruptionBudget', 'nats').spec?.maxUnavailable).toBe(1);
    const config = find(production, 'ConfigMap', 'samsyn-config').data ?? {};
    expect(Number(config.NATS_STREAM_REPLICAS)).toBeLessThanOrEqual(sts.spec?.replicas ?? 0);
    expect(config.NATS_URL).toBe('nats://nats:4222');
    expect(find(infra, 'Service', 'nats').spec?.ports?.[0]?.port).toBe(4222);
  });

  it('runs PostgreSQL as a three-instance CloudNativePG cluster with synchronous replication and backups', () => {
    const cluster = find(infra, 'Cluster', 'samsyn-pg');
    const spec = cluster.spec as Record<string, unknown> & {
      instances: number;
      minSyncReplicas: number;
      backup: { barmanObjectStore: { destinationPath: string }; retentionPolicy: string };
      bootstrap: { initdb: { database: string; owner: string } };
    };
    expect(spec.instances).toBe(3);
    expect(spec.minSyncReplicas).toBeGreaterThanOrEqual(1);
    expect(spec.backup.barmanObjectStore.destinationPath).toMatch(/^s3:\/\//);
    expect(spec.backup.retentionPolicy).toMatch(/^\d+d$/);
    expect(find(infra, 'ScheduledBackup', 'samsyn-pg-daily').spec?.cluster).toEqual({ name: 'samsyn-pg' });
  });

  it('is what the services connect to: the operator-written app Secret, and pod labels their policies allow', () => {
    // CloudNativePG writes <cluster>-app with a `uri` key for the bootstrap owner.
    for (const c of production.filter((o) => o.kind === 'Deployment').flatMap(containersOf)) {
      const db = c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
      expect(db).toEqual({ name: 'samsyn-pg-app', key: 'uri' });
    }
    const egress = JSON.stringify(find(production, 'NetworkPolicy', 'invitation').spec?.egress);
    expect(egress).toContain('"cnpg.io/cluster":"samsyn-pg"');
    expect(egress).toContain('"app.kubernetes.io/name":"nats"');
    expect(
      find(infra, 'StatefulSet', 'nats').spec?.template?.metadata?.labels?.['app.kubernetes.io/name'],
    ).toBe('nats');
  });
});
