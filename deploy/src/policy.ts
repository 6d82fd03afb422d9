// Our own rules for every rendered manifest, beyond schema validity: what a reviewer would otherwise check by hand.
import { type Container, containersOf, type K8sObject, podSpec } from './kustomize.ts';

/** Secrets created outside these manifests (docs/operations.md "Secrets" lists each). */
export const EXTERNAL_SECRETS = new Set(['samsyn-pg-app', 'samsyn-secrets', 'samsyn-auth', 'samsyn-tls']);
/** Egress ports a Samsyn pod may use: PostgreSQL, NATS, DNS, HTTPS (JWKS, record systems), SMTP submission. */
export const ALLOWED_EGRESS_PORTS = new Set([5432, 4222, 53, 443, 587]);
/** Seconds the preStop hook sleeps before SIGTERM reaches the process. */
const preStopSleep = (c: Container): number => {
  const cmd = c.lifecycle?.preStop?.exec?.command;
  return cmd?.[0] === 'sleep' ? Number(cmd[1]) : 0;
};

export function policyViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
  const config = byKind('ConfigMap').find((c) => c.metadata.name === 'samsyn-config')?.data;
  const configMaps = new Set(byKind('ConfigMap').map((c) => c.metadata.name));
  const workloads = objects.filter((o) => podSpec(o));
  const deployments = byKind('Deployment');

  for (const w of workloads) {
    const pod = podSpec(w);
    for (const c of containersOf(w)) {
      const where = `${id(w)} container ${c.name}`;
      if (!c.resources?.limits?.cpu || !c.resources?.limits?.memory)
        problems.push(`${where}: no cpu/memory limits`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
        problems.push(`${where}: no cpu/memory requests`);
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: capabilities not dropped`);
      const nonRoot = sc.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot;
      const uid = sc.runAsUser ?? pod?.securityContext?.runAsUser;
      if (nonRoot !== true || uid === 0) problems.push(`${where}: may run as root`);
      if (/:latest$/.test(String(c.image))) problems.push(`${where}: image tag latest`);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef?.name;
        if (
          ref &&
          !EXTERNAL_SECRETS.has(ref) &&
          !objects.some((o) => o.kind === 'Secret' && o.metadata.name === ref)
        )
          problems.push(`${where}: env ${e.name} reads unknown Secret ${ref}`);
      }
      for (const from of c.envFrom ?? []) {
        const cm = from.configMapRef?.name;
        if (cm && !configMaps.has(cm)) problems.push(`${where}: envFrom unknown ConfigMap ${cm}`);
      }
    }
  }

  for (const d of deployments) {
    const pod = podSpec(d);
    const labels = d.spec?.template?.metadata?.labels ?? {};
    for (const c of pod?.containers ?? []) {
      const where = `${id(d)} container ${c.name}`;
      const portNames = new Set((c.ports ?? []).map((p) => p.name));
      for (const [probe, path] of [
        ['livenessProbe', '/livez'],
        ['readinessProbe', '/readyz'],
      ] as const) {
        const get = c[probe]?.httpGet;
        if (get?.path !== path) problems.push(`${where}: ${probe} does not GET ${path}`);
        else if (typeof get.port === 'string' && !portNames.has(get.port))
          problems.push(`${where}: ${probe} uses unknown port ${get.port}`);
      }
      const grace = Number(config?.SHUTDOWN_GRACE_SECONDS ?? 20);
      const needed = preStopSleep(c) + grace + 5;
      const given = pod?.terminationGracePeriodSeconds ?? 30;
      // Long enough to drain (preStop + SHUTDOWN_GRACE_SECONDS + margin), not so long that a stuck pod lingers.
      if (given < needed || given > needed + 15)
        problems.push(`${id(d)}: terminationGracePeriodSeconds ${given} does not match drain time ${needed}`);
    }
    const selects = (sel: Record<string, string> | undefined) =>
      !!sel && Object.entries(sel).every(([k, v]) => labels[k] === v);
    if (!byKind('Service').some((s) => selects(serviceSelector(s)))) problems.push(`${id(d)}: no Service`);
    if (!byKind('PodDisruptionBudget').some((p) => selects(p.spec?.selector?.matchLabels)))
      problems.push(`${id(d)}: no PodDisruptionBudget`);
    if (!byKind('NetworkPolicy').some((p) => selects(p.spec?.podSelector?.matchLabels)))
      problems.push(`${id(d)}: no NetworkPolicy selects it`);
    if (!byKind('HorizontalPodAutoscaler').some((h) => h.spec?.scaleTargetRef?.name === d.metadata.name))
      problems.push(`${id(d)}: no HorizontalPodAutoscaler`);
    const sa = pod?.serviceAccountName;
    if (!sa || !byKind('ServiceAccount').some((s) => s.metadata.name === sa))
      problems.push(`${id(d)}: service account ${sa} is not defined`);
  }

  for (const s of byKind('Service')) {
    const sel = serviceSelector(s);
    const target = deployments.find(
      (d) => sel && Object.entries(sel).every(([k, v]) => d.spec?.template?.metadata?.labels?.[k] === v),
    );
    if (!target) {
      problems.push(`${id(s)}: selects no Deployment`);
      continue;
    }
    const names = new Set(containersOf(target).flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of s.spec?.ports ?? [])
      if (typeof p.targetPort === 'string' && !names.has(p.targetPort))
        problems.push(`${id(s)}: targetPort ${p.targetPort} is not a port of ${id(target)}`);
  }

  for (const h of byKind('HorizontalPodAutoscaler')) {
    const spec = h.spec ?? {};
    if (!deployments.some((d) => d.metadata.name === spec.scaleTargetRef?.name))
      problems.push(`${id(h)}: scales a Deployment that does not exist`);
    if ((spec.minReplicas ?? 1) > (spec.maxReplicas ?? 0))
      problems.push(`${id(h)}: minReplicas above maxReplicas`);
  }

  for (const n of byKind('NetworkPolicy')) {
    for (const rule of n.spec?.egress ?? []) {
      if (!rule.ports?.length) problems.push(`${id(n)}: an egress rule allows every port`);
      for (const p of rule.ports ?? [])
        if (!ALLOWED_EGRESS_PORTS.has(Number(p.port))) problems.push(`${id(n)}: egress to port ${p.port}`);
    }
  }

  for (const ing of byKind('Ingress')) {
    for (const rule of ing.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const svc = byKind('Service').find((s) => s.metadata.name === path.backend?.service?.name);
        if (!svc) {
          problems.push(`${id(ing)}: ${path.path} goes to missing Service ${path.backend?.service?.name}`);
          continue;
        }
        const port = path.backend.service.port;
        if (!(svc.spec?.ports ?? []).some((p) => p.name === port.name || p.port === port.number))
          problems.push(`${id(ing)}: ${path.path} uses a port ${id(svc)} does not have`);
      }
    }
  }
  return problems;
}

/** Ingress routes as `/fhir/<Type>` → Service name. */
export function fhirRoutes(objects: K8sObject[]): Map<string, string> {
  const routes = new Map<string, string>();
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of ing.spec?.rules ?? [])
      for (const path of rule.http?.paths ?? []) {
        const type = /^\/fhir\/([A-Z][A-Za-z]+)$/.exec(path.path)?.[1];
        if (type) routes.set(type, path.backend.service.name);
      }
  }
  return routes;
}

/** A Service's selector (a plain label map, unlike the matchLabels of workloads). */
function serviceSelector(s: K8sObject): Record<string, string> | undefined {
  const { matchLabels: _none, ...labels } = s.spec?.selector ?? {};
  return s.spec?.selector ? (labels as Record<string, string>) : undefined;
}
