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
    identifier: [
      { system: 'https://journal.region-exempel.se/sip-initiative', value: options.identifier ?? '42' },
    ],
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
