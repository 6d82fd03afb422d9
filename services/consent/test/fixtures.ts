// Consents shaped the way a record system sends them (docs/consent.md), for unit and integration tests.
import { HSA, ORGS, PERSONNUMMER } from '@samsyn/testkit';

export const PEOPLE = {
  /** Tolvan Tolvansson, born 1912: an adult. */
  adult: '191212121212',
  /** Born 2015-03-12: a child until 2033. */
  child: '201503120121',
  guardianA: '198001019879',
  guardianB: '198202021237',
} as const;

export interface Guardian {
  id: string;
  personnummer?: string;
  name: string;
  relationship?: string;
}

export interface ConsentOptions {
  caseId: string;
  personnummer?: string;
  status?: string;
  orgs?: string[];
  /** 'person' makes the person the performer; a list adds contained RelatedPersons. */
  performers?: 'person' | Guardian[];
  registeredGuardians?: number;
  exclusions?: string[];
  periodStart?: string;
  /** null leaves the end open. */
  periodEnd?: string | null;
}

export const GUARDIANS: Record<'a' | 'b', Guardian> = {
  a: { id: 'g1', personnummer: PEOPLE.guardianA, name: 'Anna Andersson' },
  b: { id: 'g2', personnummer: PEOPLE.guardianB, name: 'Bo Andersson' },
};

export function sipConsent(options: ConsentOptions): Record<string, unknown> {
  const personnummer = options.personnummer ?? PEOPLE.adult;
  const patientIdentifier = { system: PERSONNUMMER, value: personnummer };
  const performers = options.performers ?? 'person';
  const related = performers === 'person' ? [] : performers;
  const extension: Record<string, unknown>[] = [
    {
      url: 'https://samsyn.se/fhir/StructureDefinition/sip-case',
      valueReference: { reference: `Task/${options.caseId}` },
    },
  ];
  if (options.registeredGuardians !== undefined) {
    extension.push({
      url: 'https://samsyn.se/fhir/StructureDefinition/registered-guardians',
      valueInteger: options.registeredGuardians,
    });
  }
  return {
    resourceType: 'Consent',
    ...(related.length > 0
      ? {
          contained: related.map((g) => ({
            resourceType: 'RelatedPerson',
            id: g.id,
            patient: { identifier: patientIdentifier },
            relationship: [
              {
                coding: [
                  {
                    system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
                    code: g.relationship ?? 'GUARD',
                  },
                ],
              },
            ],
            ...(g.personnummer ? { identifier: [{ system: PERSONNUMMER, value: g.personnummer }] } : {}),
            name: [{ text: g.name }],
          })),
        }
      : {}),
    extension,
    status: options.status ?? 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: patientIdentifier },
    dateTime: '2026-11-20T09:00:00+01:00',
    performer:
      performers === 'person'
        ? [{ identifier: patientIdentifier }]
        : related.map((g) => ({ reference: `#${g.id}` })),
    policyRule: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }],
    },
    provision: {
      type: 'permit',
      period: {
        start: options.periodStart ?? '2026-11-20',
        ...(options.periodEnd === null ? {} : { end: options.periodEnd ?? '2027-11-20' }),
      },
      actor: (options.orgs ?? [ORGS.regionWard, ORGS.municipalityHomeCare]).map((org) => ({
        role: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
        },
        reference: { identifier: { system: HSA, value: org } },
      })),
      ...(options.exclusions
        ? { provision: options.exclusions.map((text) => ({ type: 'deny', code: [{ text }] })) }
        : {}),
    },
  };
}
