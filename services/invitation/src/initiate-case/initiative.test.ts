// Reading an initiative Task: every malformed or contradictory request is a 400 that says what to fix.
import { FhirError } from '@samsyn/fhir';
import { ORGS, sipInitiative } from '@samsyn/testkit';
import { describe, expect, it } from 'vitest';
import { DISCHARGE_READY_EXTENSION, readInitiative } from './initiative.ts';

const now = new Date('2026-11-22T10:00:00Z');

function problems(body: Record<string, unknown>): string[] {
  try {
    readInitiative(body, now);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    return (err as FhirError).details.map((d) => d.diagnostics);
  }
  throw new Error('expected the initiative to be refused');
}

describe('readInitiative', () => {
  it('reads the SPEC example into a command with the person, trigger and invitees', () => {
    const command = readInitiative(sipInitiative(), now);
    expect(command.requesterOrg).toBe(ORGS.regionWard);
    expect(command.patient).toEqual({
      system: 'http://electronichealth.se/identifier/personnummer',
      value: '191212121212',
      birthDate: '1912-12-12',
    });
    expect(command.trigger).toBe('discharge');
    expect(command.invitees).toEqual([
      { org: ORGS.municipalityHomeCare, kind: 'summoned' },
      { org: ORGS.municipalitySocial, kind: 'invited' },
    ]);
    expect(command.identifier).toEqual({
      system: 'https://journal.region-exempel.se/sip-initiative',
      value: '42',
    });
  });

  it('refuses a personnummer with a wrong check digit, naming the digit expected', () => {
    expect(problems(sipInitiative({ personnummer: '191212121213' })).join()).toMatch(
      /check digit \(expected 2\)/,
    );
  });

  it('refuses an invitation Task: only initiatives are created by record systems', () => {
    const body = sipInitiative();
    body.code = {
      coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-task', code: 'sip-invitation' }],
    };
    expect(problems(body).join()).toMatch(/Task.code: must be .*sip-initiative/);
  });

  it('refuses an initiative with no invitees', () => {
    expect(problems(sipInitiative({ invitees: [] })).join()).toMatch(/at least one organisation/);
  });

  it('refuses an invitee that is not an HSA-id, and one named twice, in one answer', () => {
    const found = problems(
      sipInitiative({
        invitees: [
          { org: 'SE21200004152001', kind: 'summoned' },
          { org: ORGS.municipalitySocial, kind: 'invited' },
          { org: ORGS.municipalitySocial, kind: 'summoned' },
        ],
      }),
    );
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/Task.input\[0\]/);
    expect(found[1]).toMatch(/named twice/);
  });

  it('refuses inviting the initiating unit itself', () => {
    const found = problems(sipInitiative({ invitees: [{ org: ORGS.regionWard, kind: 'summoned' }] }));
    expect(found.join()).toMatch(/initiating unit takes part already/);
  });

  it('refuses a Task.for that does not point at the contained Patient', () => {
    const body = sipInitiative();
    body.for = { reference: '#someone-else' };
    expect(problems(body).join()).toMatch(/Task.for: must reference the contained Patient/);
  });

  it('refuses an unknown trigger and an unknown invitee kind', () => {
    const body = sipInitiative();
    body.reasonCode = { coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-trigger', code: 'whim' }] };
    (body.input as { type: unknown }[])[0] = {
      type: { coding: [{ system: 'https://samsyn.se/fhir/CodeSystem/sip-task-input', code: 'maybe' }] },
    };
    const found = problems(body).join();
    expect(found).toMatch(/Task.reasonCode/);
    expect(found).toMatch(/Task.input\[0\].type/);
  });

  it('refuses a wrong status or intent with the allowed value', () => {
    const body = { ...sipInitiative(), status: 'completed', intent: 'plan' };
    const found = problems(body).join();
    expect(found).toMatch(/status 'requested'/);
    expect(found).toMatch(/intent 'order'/);
  });

  it('refuses a ready-for-discharge time in the future, and one without trigger discharge', () => {
    const future = {
      ...sipInitiative(),
      extension: [{ url: DISCHARGE_READY_EXTENSION, valueDateTime: '2026-12-01T10:00:00Z' }],
    };
    expect(problems(future).join()).toMatch(/lies in the future/);
    const other = {
      ...sipInitiative({ trigger: 'other' }),
      extension: [{ url: DISCHARGE_READY_EXTENSION, valueDateTime: '2026-11-21T10:00:00Z' }],
    };
    expect(problems(other).join()).toMatch(/only meaningful with trigger discharge/);
  });

  it('keeps a valid ready-for-discharge time', () => {
    const body = {
      ...sipInitiative(),
      extension: [{ url: DISCHARGE_READY_EXTENSION, valueDateTime: '2026-11-21T10:00:00+01:00' }],
    };
    expect(readInitiative(body, now).dischargeReadyAt?.toISOString()).toBe('2026-11-21T09:00:00.000Z');
  });

  it('refuses a requester without an HSA-id', () => {
    const body = sipInitiative();
    body.requester = { display: 'Avdelning 12' };
    expect(problems(body).join()).toMatch(/Task.requester.identifier: must be the HSA-id/);
  });
});
