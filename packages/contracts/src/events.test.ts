// Unit tests for event definitions: names, versioned types, and schemas that keep personal data out.
import { describe, expect, it } from 'vitest';
import { caseInitiatedV1, dataschemaUri, definitionForType, events } from './events.ts';

const VALID_CASE_INITIATED = {
  caseId: '5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
  requesterOrg: 'SE2321000032-1001',
  trigger: 'discharge',
  dischargeReadyAt: '2026-11-22T08:00:00Z',
  initiatedAt: '2026-11-22T09:30:00+01:00',
  person: { ageBand: 'older', municipality: '0180' },
  invitations: [
    {
      invitationId: '0b8f7c1e-4a5d-4e2f-9c3b-6a7d8e9f0a1b',
      org: 'SE2120000183-2001',
      kind: 'summoned',
    },
  ],
};

/** The paths zod names for a payload it refuses. */
function problemPaths(payload: unknown): string[] {
  const result = events.caseInitiated.schema.safeParse(payload);
  expect(result.success).toBe(false);
  return result.error?.issues.map((i) => i.path.join('.')) ?? [];
}

describe('events.caseInitiated', () => {
  it('has the versioned CloudEvents type and NATS subject consumers subscribe to', () => {
    expect(events.caseInitiated.type).toBe('se.samsyn.case.initiated.v1');
    expect(events.caseInitiated.subject).toBe('sip.case.initiated');
    expect(events.caseInitiated.version).toBe(1);
    expect(events.caseInitiated.stream).toBe('INVITATION');
  });

  it('accepts a well-formed payload unchanged', () => {
    expect(events.caseInitiated.schema.parse(VALID_CASE_INITIATED)).toEqual(VALID_CASE_INITIATED);
  });

  it('refuses an initiative that invites no organisation', () => {
    const result = caseInitiatedV1.safeParse({ ...VALID_CASE_INITIATED, invitations: [] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      'an initiative invites at least one organisation',
    ]);
  });

  it('refuses an organisation that is not an HSA-id', () => {
    expect(problemPaths({ ...VALID_CASE_INITIATED, requesterOrg: '2321000032-1001' })).toEqual([
      'requesterOrg',
    ]);
    expect(
      problemPaths({
        ...VALID_CASE_INITIATED,
        invitations: [{ ...VALID_CASE_INITIATED.invitations[0], org: 'Socialtjänsten Solna' }],
      }),
    ).toEqual(['invitations.0.org']);
  });

  it('refuses an age band outside child, adult and older', () => {
    expect(problemPaths({ ...VALID_CASE_INITIATED, person: { ageBand: 'senior' } })).toEqual([
      'person.ageBand',
    ]);
  });

  it('drops a name or personnummer put inside person, so no personal data travels on the bus', () => {
    const parsed = caseInitiatedV1.parse({
      ...VALID_CASE_INITIATED,
      person: {
        ageBand: 'adult',
        name: 'Tolvan Tolvansson',
        personnummer: '191212121212',
        birthDate: '1912-12-12',
      },
    });
    expect(parsed.person).toEqual({ ageBand: 'adult' });
    expect(parsed.person).not.toHaveProperty('name');
    expect(parsed.person).not.toHaveProperty('personnummer');
    expect(JSON.stringify(parsed)).not.toContain('191212121212');
    expect(JSON.stringify(parsed)).not.toContain('Tolvan');
  });

  it('drops unknown top-level fields too', () => {
    const parsed = caseInitiatedV1.parse({ ...VALID_CASE_INITIATED, patientName: 'Tolvan Tolvansson' });
    expect(parsed).not.toHaveProperty('patientName');
  });
});

describe('definitionForType', () => {
  it('finds an event definition by its CloudEvents type', () => {
    expect(definitionForType('se.samsyn.case.initiated.v1')).toBe(events.caseInitiated);
    expect(definitionForType('se.samsyn.consent.revoked.v1')).toBe(events.consentRevoked);
  });

  it('finds nothing for an unknown type or version', () => {
    expect(definitionForType('se.samsyn.case.initiated.v2')).toBeUndefined();
    expect(definitionForType('sip.case.initiated')).toBeUndefined();
  });

  it('finds every defined event by its own type', () => {
    for (const def of Object.values(events)) expect(definitionForType(def.type)).toBe(def);
  });
});

describe('dataschemaUri', () => {
  it('names the subject and version of the event', () => {
    expect(dataschemaUri(events.caseInitiated)).toBe(
      'https://samsyn.se/schemas/events/sip.case.initiated/v1',
    );
  });
});

describe('the plan events', () => {
  const established = {
    planId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    caseId: '5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
    at: '2026-11-23T10:00:00+01:00',
    version: 3,
    leadOrg: 'SE2120000415-2001',
    participantOrgs: ['SE2120000415-2001', 'SE2321000032-1001'],
    followUpDue: '2027-02-23',
  };

  it('publish on the PLAN stream under sip.plan.*', () => {
    expect(events.planEstablished.subject).toBe('sip.plan.established');
    expect(events.planFollowedUp.type).toBe('se.samsyn.plan.followed-up.v1');
    for (const def of Object.values(events).filter((e) => e.subject.startsWith('sip.plan.'))) {
      expect(def.stream).toBe('PLAN');
    }
  });

  it('refuses a follow-up date that is not a calendar date', () => {
    expect(events.planEstablished.schema.safeParse(established).success).toBe(true);
    const result = events.planEstablished.schema.safeParse({ ...established, followUpDue: '23/2 2027' });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['followUpDue']);
  });

  it('refuses a closure reason outside the agreed list', () => {
    const closed = { ...established, reason: 'bored', byOrg: 'SE2120000415-2001' };
    expect(events.planClosed.schema.safeParse(closed).error?.issues.map((i) => i.path.join('.'))).toEqual([
      'reason',
    ]);
  });
});
