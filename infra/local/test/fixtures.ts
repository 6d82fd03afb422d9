// Request bodies shared by the end-to-end suites: a consent covering the case's units and a draft plan.
import { HSA, ORGS } from '@samsyn/testkit';

/** The units that take part in a seeded case; the outsider takes part in nothing. */
export const PARTICIPANTS = [ORGS.regionWard, ORGS.municipalityHomeCare, ORGS.municipalitySocial];

export function draftPlan(caseId: string): Record<string, unknown> {
  return {
    resourceType: 'CarePlan',
    status: 'draft',
    intent: 'plan',
    title: 'SIP (utkast)',
    subject: {
      identifier: { system: 'http://electronichealth.se/identifier/personnummer', value: '191212121212' },
    },
    supportingInfo: [{ reference: `Task/${caseId}` }],
    author: { type: 'Organization', identifier: { system: HSA, value: ORGS.regionWard } },
  };
}

/** The person's consent for the case, covering PARTICIPANTS until `until`. */
export function consentFor(caseId: string, until = '2027-11-20'): Record<string, unknown> {
  const person = { system: 'http://electronichealth.se/identifier/personnummer', value: '191212121212' };
  return {
    resourceType: 'Consent',
    extension: [
      {
        url: 'https://samsyn.se/fhir/StructureDefinition/sip-case',
        valueReference: { reference: `Task/${caseId}` },
      },
    ],
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { identifier: person },
    dateTime: '2026-11-20T09:00:00+01:00',
    performer: [{ identifier: person }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: '2026-11-20', end: until },
      actor: PARTICIPANTS.map((org) => ({
        role: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
        },
        reference: { identifier: { system: HSA, value: org } },
      })),
    },
  };
}
