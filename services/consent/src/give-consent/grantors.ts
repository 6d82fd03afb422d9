// Who may give the consent (SPEC §3): the person, a legal representative, or for a child the guardians — both
// when two are registered. Breaking the rule is a 422 that lists what is missing.
import { BusinessRuleViolation, type FhirErrorDetail } from '@samsyn/fhir';
import { ADULT_AGE, GUARDIAN_CODE, REGISTERED_GUARDIANS_EXTENSION } from '../consent/profile.ts';
import type { ConsentCommand, Grantor } from './consent-resource.ts';

export type GrantorSummary = 'person' | 'guardians' | 'representative';

/**
 * Checks that the performers may give (or refuse) this consent and says who gave it. A given consent of a child
 * needs every registered guardian; a refusal needs one of them (one guardian's no is enough to stop the SIP);
 * a draft or proposal needs nobody yet.
 */
export function checkGrantors(
  command: Pick<ConsentCommand, 'status' | 'ageAtConsent' | 'registeredGuardians' | 'grantors'>,
): GrantorSummary {
  const child = command.ageAtConsent < ADULT_AGE;
  const guardians = distinct(command.grantors.filter((g) => g.kind === 'guardian'));
  const representatives = command.grantors.filter((g) => g.kind === 'representative');
  const person = command.grantors.some((g) => g.kind === 'person');
  const summary: GrantorSummary = child ? 'guardians' : person ? 'person' : 'representative';
  if (command.status === 'draft' || command.status === 'proposed') return summary;

  const problems: FhirErrorDetail[] = [];
  const problem = (diagnostics: string) =>
    problems.push({ diagnostics, expression: ['Consent.performer'], code: 'business-rule' });
  const age = `the person was ${command.ageAtConsent} when the consent was given`;

  if (child) {
    const registered = command.registeredGuardians;
    if (command.status === 'active' && registered === undefined) {
      problem(
        `Consent.extension: ${age}, so the guardians consent; say how many guardians are registered with ${REGISTERED_GUARDIANS_EXTENSION} (valueInteger 1 or 2)`,
      );
    }
    const needed = command.status === 'active' ? (registered ?? 1) : 1;
    if (guardians.length < needed) {
      const found =
        guardians.length === 0
          ? 'no guardian is a performer'
          : `only ${guardians.map((g) => g.label).join(', ')} consented`;
      const missing = needed - guardians.length;
      problem(
        `Consent.performer: ${age} and ${needed === 2 ? 'two guardians are registered, so both must consent' : 'a guardian must consent'}; ${found}. Missing: ${missing === 1 && needed === 2 ? 'the second guardian' : `${missing} guardian${missing > 1 ? 's' : ''}`} (a contained RelatedPerson with relationship ${GUARDIAN_CODE} referenced from Consent.performer)`,
      );
    }
    if (registered !== undefined && guardians.length > registered) {
      problem(
        `Consent.performer: ${guardians.length} different guardians consented, but ${registered} ${registered === 1 ? 'is' : 'are'} registered`,
      );
    }
  } else {
    if (guardians.length > 0) {
      problem(
        `Consent.performer: ${age}; an adult has no guardian (${GUARDIAN_CODE}, vårdnadshavare). A god man or förvaltare is RESPRSN, a framtidsfullmakt POWATT`,
      );
    }
    if (!person && representatives.length === 0) {
      problem(
        `Consent.performer: ${age}; the person (or a legal representative) must be a performer: { "identifier": <the Consent.patient identifier> } or a contained RelatedPerson with relationship RESPRSN or POWATT`,
      );
    }
  }
  if (problems.length > 0) throw new BusinessRuleViolation('consent-grantor-missing', problems);
  return summary;
}

/** The same guardian named twice counts once. */
function distinct(grantors: Grantor[]): Grantor[] {
  const seen = new Map<string, Grantor>();
  for (const g of grantors) if (!seen.has(g.key)) seen.set(g.key, g);
  return [...seen.values()];
}
