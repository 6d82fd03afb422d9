// Offline validation against the Kubernetes OpenAPI schemas (kubernetes-models) and, for the custom resources we
// ship, the operator's own models where a package has them.
import type { K8sObject } from './kustomize.ts';

type Model = new (data: object) => { validate(): void };

/** The module of kubernetes-models (or a CRD package) that holds the class for an apiVersion. */
function moduleFor(apiVersion: string): string | undefined {
  if (apiVersion === 'monitoring.coreos.com/v1')
    return '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
  if (apiVersion.includes('.') && !apiVersion.includes('k8s.io')) return undefined;
  return `kubernetes-models/${apiVersion}`;
}

/** Schema problems of one object (empty when valid). Objects of an API we have no schema for are reported too. */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const name = `${o.apiVersion} ${o.kind}/${o.metadata?.name}`;
  const module = moduleFor(o.apiVersion);
  if (!module) return [`${name}: no schema available offline for ${o.apiVersion}`];
  let Class: Model | undefined;
  try {
    Class = ((await import(module)) as Record<string, Model>)[o.kind];
  } catch {
    Class = undefined;
  }
  if (!Class) return [`${name}: ${o.kind} is not a kind of ${o.apiVersion}`];
  try {
    new Class(o).validate();
    return [];
  } catch (err) {
    return [`${name}: ${(err as Error).message}`];
  }
}
