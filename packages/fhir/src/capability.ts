// Builds the one CapabilityStatement served at /fhir/metadata from the parts each service declares.
import type { CapabilityStatement, ResourceType } from './types.ts';

type Interaction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history-instance'
  | 'create'
  | 'search-type';

export interface ResourceCapability {
  type: ResourceType;
  /** Canonical profile the resource follows, if any. */
  profile?: string;
  interactions: Interaction[];
  searchParams: {
    name: string;
    type: 'token' | 'reference' | 'date' | 'string' | 'number';
    documentation?: string;
  }[];
  conditionalCreate?: boolean;
  versioning?: 'no-version' | 'versioned' | 'versioned-update';
  operations?: { name: string; definition: string }[];
  documentation?: string;
}

export function capabilityStatement(
  parts: readonly ResourceCapability[],
  software = { version: '0.1.0' },
): CapabilityStatement {
  const byType = new Map<ResourceType, ResourceCapability>();
  for (const part of parts) {
    const existing = byType.get(part.type);
    if (!existing) {
      byType.set(part.type, { ...part });
      continue;
    }
    // Two services may serve the same type for different codes (e.g. Task): merge what they declare.
    existing.interactions = [...new Set([...existing.interactions, ...part.interactions])];
    existing.searchParams = [
      ...existing.searchParams,
      ...part.searchParams.filter((p) => !existing.searchParams.some((e) => e.name === p.name)),
    ];
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    publisher: 'Samsyn',
    kind: 'instance',
    software: { name: 'Samsyn', version: software.version },
    // cpb-14: an instance statement names its implementation.
    implementation: { description: 'Samsyn: coordinated individual plans (SIP) over FHIR R4' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
          ],
          description:
            'Every call carries a bearer JWT naming the user (HSA-id), the organisation unit and SMART-style scopes.',
        },
        resource: [...byType.values()]
          .sort((a, b) => a.type.localeCompare(b.type))
          .map((r) => ({
            type: r.type,
            ...(r.profile ? { profile: r.profile } : {}),
            ...(r.documentation ? { documentation: r.documentation } : {}),
            interaction: r.interactions.map((code) => ({ code })),
            versioning: r.versioning ?? 'versioned',
            readHistory: r.interactions.includes('vread'),
            conditionalCreate: r.conditionalCreate ?? false,
            searchParam: r.searchParams.map((p) => ({
              name: p.name,
              type: p.type,
              ...(p.documentation ? { documentation: p.documentation } : {}),
            })),
            ...(r.operations ? { operation: r.operations } : {}),
          })),
      },
    ],
  };
}
