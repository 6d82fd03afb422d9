// Realistic FHIR payloads for tests, shaped like the SPEC §5 example a record system sends.
export const ORGS = {
  regionWard: 'SE2321000032-1001',
  municipalityHomeCare: 'SE2120000415-2001',
  municipalitySocial: 'SE2120000415-3001',
  municipalityOtherUnit: 'SE2120000415-2002',
  outsider: 'SE2321000099-7777',
} as const;

export const HSA = 'urn:oid:1.2.752.29.4.19';
export const PERSONNUMMER = 'http://electronichealth.se/identifier/personnummer';
/** The identifier system of the example record system's initiatives. */
export const INITIATIVE_SYSTEM = 'https://journal.region-exempel.se/sip-initiative';

export interface InitiativeOptions {
  identifier?: string;
  requester?: string;
  personnummer?: string;
  trigger?: 'discharge' | 'other';
  invitees?: { org: string; kind: 'summoned' | 'invited' }[];
}

export function sipInitiative(options: InitiativeOptions = {}): Record<string, unknown> {
  const invitees = options.invitees ?? [
    { org: ORGS.municipalityHomeCare, kind: 'summoned' },
    { org: ORGS.municipalitySocial, kind: 'invited' },
  ];
  return {
    resourceType: 'Task',
    identifier: [{ system: INITIATIVE_SYSTEM, value: options.identifier ?? '42' }],
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-task', code: 'sip-initiative' }] },
    contained: [
      {
        resourceType: 'Patient',
        id: 'p',
        identifier: [{ system: PERSONNUMMER, value: options.personnummer ?? '191212121212' }],
        name: [{ family: 'Tolvansson', given: ['Tolvan'] }],
        communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }] } }],
      },
    ],
    for: { reference: '#p' },
    requester: { identifier: { system: HSA, value: options.requester ?? ORGS.regionWard } },
    reasonCode: {
      coding: [
        { system: 'https://samsyn.se/fhir/CodeSystem/sip-trigger', code: options.trigger ?? 'discharge' },
      ],
    },
    description: 'Samordning inför utskrivning; frågor: hemtjänst, rehabilitering',
    input: invitees.map((i) => ({
      type: { coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-task-input', code: i.kind }] },
      valueReference: { identifier: { system: HSA, value: i.org } },
    })),
  };
}

// --- The SIP plan (plan-store) ---------------------------------------------------------------------------------

const SD = 'https://samsyn.se/fhir/StructureDefinition';
const CS = 'https://samsyn.se/fhir/CodeSystem';
/** A unit outside both principals: a private home-care provider the person also uses. */
export const OTHER_ACTOR = 'SE5565594230-1001';

/** The date `days` from today (UTC), YYYY-MM-DD. */
export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const planOrg = (value: string, display: string) => ({
  type: 'Organization',
  identifier: { system: HSA, value },
  display,
});
const activityActor = (code: string) => ({
  url: `${SD}/sip-activity-actor`,
  valueCoding: { system: `${CS}/sip-activity-actor`, code },
});
const teamRole = (code: string) => [{ coding: [{ system: `${CS}/sip-team-role`, code }] }];

export interface CarePlanOptions {
  status?: 'draft' | 'active';
  followUp?: string | null;
  personnummer?: string;
  language?: string;
}

/**
 * A complete SIP plan (CarePlan, docs/careplan.md) as a record system sends it for the case `caseId`: everything
 * the law requires is there — activities of both principals, another actor's measure, the lead, a follow-up date.
 */
export function sipCarePlan(caseId: string, options: CarePlanOptions = {}): Record<string, unknown> {
  const followUp = options.followUp === undefined ? daysFromNow(90) : options.followUp;
  return {
    resourceType: 'CarePlan',
    status: options.status ?? 'active',
    intent: 'plan',
    title: 'SIP för Tolvan Tolvansson',
    ...(followUp ? { extension: [{ url: `${SD}/sip-follow-up-date`, valueDate: followUp }] } : {}),
    contained: [
      {
        resourceType: 'Patient',
        id: 'person',
        identifier: [{ system: PERSONNUMMER, value: options.personnummer ?? '191212121212' }],
        name: [{ family: 'Tolvansson', given: ['Tolvan'] }],
        communication: [
          {
            language: { coding: [{ system: 'urn:ietf:bcp:47', code: options.language ?? 'ar' }] },
            preferred: true,
          },
        ],
      },
      {
        resourceType: 'Goal',
        id: 'goal-1',
        lifecycleStatus: 'active',
        description: { text: 'Jag vill kunna bo kvar hemma och laga min egen mat.' },
        subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
        expressedBy: { reference: '#person' },
      },
      {
        resourceType: 'Goal',
        id: 'goal-1a',
        lifecycleStatus: 'active',
        description: { text: 'Klara att gå till affären själv inom tre månader.' },
        subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
        expressedBy: { reference: '#person' },
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/goal-relationship',
            extension: [
              {
                url: 'type',
                valueCodeableConcept: {
                  coding: [{ system: 'http://hl7.org/fhir/goal-relationship-type', code: 'milestone' }],
                },
              },
              { url: 'target', valueReference: { reference: '#goal-1' } },
            ],
          },
        ],
      },
      {
        resourceType: 'CareTeam',
        id: 'team',
        status: 'active',
        participant: [
          {
            role: teamRole('principal'),
            member: planOrg(ORGS.regionWard, 'Medicinavdelning 12, Region Exempel'),
          },
          {
            role: teamRole('principal'),
            member: planOrg(ORGS.municipalityHomeCare, 'Hemtjänst Norr, Exempels kommun'),
          },
          { role: teamRole('other-actor'), member: planOrg(OTHER_ACTOR, 'Omsorg AB') },
          {
            role: teamRole('contact-person'),
            member: { type: 'Practitioner', display: 'Anna Andersson, sjuksköterska' },
            onBehalfOf: {
              identifier: { system: HSA, value: ORGS.regionWard },
              display: 'Medicinavdelning 12',
            },
          },
          { role: teamRole('person'), member: { reference: '#person' } },
          {
            role: teamRole('relative'),
            member: { type: 'RelatedPerson', display: 'Lisa Tolvansson (dotter)' },
          },
        ],
      },
    ],
    subject: { identifier: { system: PERSONNUMMER, value: options.personnummer ?? '191212121212' } },
    supportingInfo: [{ reference: `Task/${caseId}`, display: 'SIP-initiativ' }],
    period: { start: new Date().toISOString().slice(0, 10) },
    author: planOrg(ORGS.regionWard, 'Medicinavdelning 12, Region Exempel'),
    careTeam: [{ reference: '#team' }],
    goal: [{ reference: '#goal-1' }, { reference: '#goal-1a' }],
    activity: [
      {
        detail: {
          extension: [activityActor('principal')],
          kind: 'ServiceRequest',
          code: { text: 'Hemtjänst: hjälp med inköp och matlagning' },
          status: 'scheduled',
          performer: [planOrg(ORGS.municipalityHomeCare, 'Hemtjänst Norr')],
          scheduledPeriod: { start: daysFromNow(1), end: daysFromNow(120) },
          goal: [{ reference: '#goal-1' }],
        },
      },
      {
        detail: {
          extension: [activityActor('principal')],
          code: { text: 'Rehabilitering: gångträning två gånger i veckan' },
          status: 'scheduled',
          performer: [planOrg(ORGS.regionWard, 'Medicinavdelning 12')],
          scheduledPeriod: { start: daysFromNow(2), end: daysFromNow(90) },
          goal: [{ reference: '#goal-1a' }],
        },
      },
      {
        detail: {
          extension: [activityActor('other-actor')],
          code: { text: 'Trygghetslarm installeras' },
          status: 'scheduled',
          performer: [planOrg(OTHER_ACTOR, 'Omsorg AB')],
        },
      },
      {
        detail: {
          extension: [activityActor('person')],
          code: { text: 'Gå en promenad varje dag' },
          status: 'in-progress',
          performer: [{ reference: '#person' }],
        },
      },
    ],
  };
}
